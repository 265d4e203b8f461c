# doppel_module(NAME SOURCES a.cc b.cc DEPS x y)
# One static library per module under src/, linked as doppel_<NAME>, with src/ on the include
# path so headers are included as "module/header.h".
function(doppel_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(doppel_${name} STATIC ${ARG_SOURCES})
  target_include_directories(doppel_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(doppel_${name} PUBLIC ${ARG_DEPS})
endfunction()

# ctest runs tests side by side on 2 cores: with libgomp's default spinning, OpenMP pools of
# neighbouring tests (FAISS, XGBoost, our own loops) stall each other many times over.
set(DOPPEL_TEST_ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")

# doppel_test(NAME SOURCES a_test.cc DEPS doppel_x [LABELS slow])
# A gtest binary whose cases ctest discovers one by one; tests run from the source tree so that
# they can find ../shared/data relative to the repository root.
# Test files compile without optimisation: their time goes into the optimised libraries they
# call, and at -O2 the ones without torch took a fifth of a cold build's compile time
# (server_test.cc: 45 s at -O2, 18 s at -O0). doppel_torch_pch() puts a test that reuses the
# precompiled torch header back at the build's level, as GCC only takes a header precompiled at
# the same one.
function(doppel_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -O0)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "${DOPPEL_TEST_ENVIRONMENT}"
    DISCOVERY_TIMEOUT 60)
endfunction()
