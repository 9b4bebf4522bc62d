# check_headers.cmake - compiles every public header on its own (twice, to
# check the include guard), so each one includes what it uses.
#
# Also keeps the layers apart (DESIGN.md): the core (include/corio/*.hpp,
# detail/, testing/, src/core/) includes neither the networking layer nor a
# protocol layer, the networking layer includes no protocol layer, and the
# protocol layers (HTTP, Redis, SQL) do not include each other.
function(corio_check_layer files forbidden what)
  foreach(f ${files})
    file(STRINGS ${f} bad REGEX "#include [<\"]corio/(${forbidden})")
    if(bad)
      message(FATAL_ERROR "layering: ${f} is ${what} but includes an upper layer: ${bad}")
    endif()
  endforeach()
endfunction()

function(corio_check_headers)
  file(GLOB_RECURSE all_files ${PROJECT_SOURCE_DIR}/include/corio/*.hpp
       ${PROJECT_SOURCE_DIR}/src/*.cpp ${PROJECT_SOURCE_DIR}/src/*.hpp)
  set(core_files "")
  set(net_files "")
  set(http_files "")
  set(redis_files "")
  set(process_files "")
  set(sql_files "")
  set(amqp_files "")
  foreach(f ${all_files})
    if(f MATCHES "/include/corio/net(/|\\.hpp$)" OR f MATCHES "/src/net/")
      list(APPEND net_files ${f})
    elseif(f MATCHES "/include/corio/redis(/|\\.hpp$)" OR f MATCHES "/src/redis/")
      list(APPEND redis_files ${f})
    elseif(f MATCHES "/include/corio/http(/|\\.hpp$)" OR f MATCHES "/src/http/")
      list(APPEND http_files ${f})
    elseif(f MATCHES "/include/corio/process(/|\\.hpp$)" OR f MATCHES "/src/process/")
      list(APPEND process_files ${f})
    elseif(f MATCHES "/include/corio/sql(/|\\.hpp$)" OR f MATCHES "/src/sql/")
      list(APPEND sql_files ${f})
    elseif(f MATCHES "/src/amqp/work_queue\\.cpp$")
      # RabbitMQ as a WorkQueue backend: implements corio::redis's interface.
    elseif(f MATCHES "/include/corio/amqp(/|\\.hpp$)" OR f MATCHES "/src/amqp/")
      list(APPEND amqp_files ${f})
    elseif(f MATCHES "/include/corio/actors(/|\\.hpp$)" OR f MATCHES "/src/actors/")
      # Actors stand on HTTP and Redis: the top layer, may include any other.
    elseif(f MATCHES "/include/corio/" OR f MATCHES "/src/(core|testing)/")
      list(APPEND core_files ${f})
    endif()
  endforeach()
  corio_check_layer("${core_files}" "net|redis|http|process|sql|amqp|actors" "core")
  corio_check_layer("${net_files}" "redis|http|sql|amqp|actors" "networking")
  corio_check_layer("${http_files}" "redis|sql|amqp|actors" "HTTP")
  corio_check_layer("${redis_files}" "http|sql|amqp|actors" "Redis")
  corio_check_layer("${process_files}" "net|redis|http|actors" "the process layer (core only)")
  corio_check_layer("${sql_files}" "redis|http|process|amqp|actors" "SQL")
  corio_check_layer("${amqp_files}" "redis|http|process|sql|actors" "AMQP (core and net only)")
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
  target_link_libraries(corio_check_headers PRIVATE corio::core corio::net corio::redis
                                                    corio::http corio::sql corio::amqp corio::actors)
  corio_apply_flags(corio_check_headers)
endfunction()
