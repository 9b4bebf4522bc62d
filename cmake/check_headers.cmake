# check_headers.cmake - compiles every public header on its own (twice, to
# check the include guard), so each one includes what it uses.
#
# Also keeps the layers apart (DESIGN.md): the core (include/corio/*.hpp,
# detail/, testing/, src/core/) never includes the networking or HTTP layer,
# and the networking layer never includes the HTTP layer.
function(corio_check_headers)
  file(GLOB_RECURSE core_files ${PROJECT_SOURCE_DIR}/include/corio/*.hpp
       ${PROJECT_SOURCE_DIR}/src/core/*.cpp ${PROJECT_SOURCE_DIR}/src/core/*.hpp)
  foreach(f ${core_files})
    if(f MATCHES "/include/corio/(net|http)(/|\\.hpp$)")
      continue()
    endif()
    file(STRINGS ${f} bad REGEX "#include [<\"]corio/(net|http)")
    if(bad)
      message(FATAL_ERROR "layering: ${f} is core but includes an upper layer: ${bad}")
    endif()
  endforeach()
  file(GLOB_RECURSE net_files ${PROJECT_SOURCE_DIR}/include/corio/net/*.hpp
       ${PROJECT_SOURCE_DIR}/include/corio/net.hpp ${PROJECT_SOURCE_DIR}/src/net/*.cpp
       ${PROJECT_SOURCE_DIR}/src/net/*.hpp)
  foreach(f ${net_files})
    file(STRINGS ${f} bad REGEX "#include [<\"]corio/http")
    if(bad)
      message(FATAL_ERROR "layering: ${f} is networking but includes the HTTP layer: ${bad}")
    endif()
  endforeach()
  file(GLOB_RECURSE headers RELATIVE ${PROJECT_SOURCE_DIR}/include
       CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/corio/*.hpp)
  set(sources "")
  foreach(h ${headers})
    string(MAKE_C_IDENTIFIER ${h} id)
    set(src ${CMAKE_CURRENT_BINARY_DIR}/check_headers/${id}.cpp)
    file(GENERATE OUTPUT ${src} CONTENT "#include \"${h}\"\n#include \"${h}\"\n")
    list(APPEND sources ${src})
  endforeach()
  add_library(corio_check_headers OBJECT ${sources})
  target_link_libraries(corio_check_headers PRIVATE corio::core corio::net corio::http)
  corio_apply_flags(corio_check_headers)
endfunction()
