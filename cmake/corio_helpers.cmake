# corio_helpers.cmake - one way to declare libraries, tests and examples, with
# warnings, sanitizers and coroutine-safety flags applied per target.

# Flags every corio target gets.
function(corio_apply_flags target)
  target_compile_features(${target} PRIVATE cxx_std_20)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Symmetric transfer must be a tail call at every optimisation level, or a
    # long chain of co_awaits overflows the stack (see DESIGN.md).
    # GCC 12 warns about designated initializers that leave out members with
    # default initializers ({.return_when = FIRST_COMPLETED}), which is how
    # corio's option structs are meant to be used; and -O2 gives false
    # -Wrestrict positives inside std::string concatenation (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -foptimize-sibling-calls
                                             -Wno-missing-field-initializers -Wno-restrict)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  endif()
  if(CORIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CORIO_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${CORIO_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${CORIO_SANITIZE})
    if(CORIO_SANITIZE MATCHES "address" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC's use-after-scope checks block the symmetric-transfer tail call.
      target_compile_options(${target} PRIVATE -fno-sanitize-address-use-after-scope)
    endif()
    if(CORIO_SANITIZE MATCHES "undefined")
      target_compile_options(${target} PRIVATE -fno-sanitize-recover=undefined)
      if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        # clang 14 cannot emit -fsanitize=function prologues for coroutine
        # lambdas ("Cannot represent a difference across sections").
        target_compile_options(${target} PRIVATE -fno-sanitize=function)
      endif()
    endif()
  endif()
  if(CORIO_BUILD_FUZZERS)
    # Coverage for libFuzzer in the libraries too, not only in the targets.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# corio_add_library(NAME core SRCS ... DEPS ...) -> corio_core, alias corio::core
function(corio_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  set(target corio_${ARG_NAME})
  add_library(${target} ${ARG_SRCS})
  add_library(corio::${ARG_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${ARG_NAME} OUTPUT_NAME corio_${ARG_NAME})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
  corio_apply_flags(${target})
  install(TARGETS ${target} EXPORT corioTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

# corio_add_test(NAME event_loop_test SRCS ... DEPS ... LABELS unit [IO])
# IO: the test runs loops that do I/O; it is registered twice, on the epoll
# backend (NAME) and on io_uring (NAME.io_uring, label "io_uring"), through
# the CORIO_BACKEND environment variable.
function(corio_add_test)
  cmake_parse_arguments(ARG "IO" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  corio_apply_flags(${ARG_NAME})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
  # The suites ThreadSanitizer runs (label "threads"): tests/CMakeLists.txt
  # gathers them into the target corio_threads_suite.
  if(ARG_LABELS MATCHES "threads")
    set_property(GLOBAL APPEND PROPERTY CORIO_THREADS_TESTS ${ARG_NAME})
  endif()
  if(ARG_IO)
    set_tests_properties(${ARG_NAME} PROPERTIES ENVIRONMENT "CORIO_BACKEND=epoll")
    # Not under ThreadSanitizer: liburing maps its rings with raw system
    # calls TSan does not see, so a ring mapped where another thread's ring
    # was reads as a data race (README, "tests").
    # Under AddressSanitizer, the suites against a database or broker
    # (labels postgres, mariadb, rabbitmq) run on epoll only: each run starts
    # its own server (seconds), their drivers reach the backend only through
    # the connection engine and io_wait, which the net suites check under
    # ASan on both backends, and the Debug build runs their io_uring twins.
    set(twin TRUE)
    if(CORIO_SANITIZE MATCHES "address" AND ARG_LABELS MATCHES "postgres|mariadb|rabbitmq")
      set(twin FALSE)
    endif()
    if(twin AND CORIO_IO_URING_BUILT AND NOT CORIO_SANITIZE MATCHES "thread")
      add_test(NAME ${ARG_NAME}.io_uring COMMAND ${ARG_NAME})
      set_tests_properties(${ARG_NAME}.io_uring PROPERTIES LABELS "${ARG_LABELS};io_uring"
                           TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "CORIO_BACKEND=io_uring")
    endif()
  endif()
endfunction()

# corio_add_example(NAME hello SRCS ... DEPS ...)
function(corio_add_example)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  corio_apply_flags(${ARG_NAME})
  # Examples are what users copy: they get the warnings of a user's
  # -Wall -Wextra -Werror, with GCC's missing-field-initializers back on
  # (GCC 12 warns when a designated initializer skips a member before the
  # ones it names). -Wrestrict stays off: GCC bug 105329, in libstdc++.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${ARG_NAME} PRIVATE -Wmissing-field-initializers)
  endif()
endfunction()
