# SPDX-License-Identifier: MIT
# Consumer test driver, run as `cmake -DMODE=... -P run.cmake` by ctest.
#
#   MODE=install    cmake --install BUILD_DIR into a fresh PREFIX, check the layout
#   MODE=pkgconfig  compile consumer.c with `pkg-config --cflags --libs focal`, run it
#   MODE=cmake      build project/ (find_package(focal 1 CONFIG)), run it
#
# Other variables (set by CMakeLists.txt): BUILD_DIR PREFIX WORK_DIR SOURCE_DIR
# CONFIG VERSION C_COMPILER GENERATOR MAKE_PROGRAM PKG_CONFIG. Native builds
# only: the programs run on the build machine.
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGV " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

# Sets <var> to the one file under PREFIX matching the relative glob <pattern>.
function(find_one var pattern)
  file(GLOB_RECURSE hits LIST_DIRECTORIES false "${PREFIX}/${pattern}")
  list(LENGTH hits count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "expected one ${pattern} under ${PREFIX}, found ${count}: ${hits}")
  endif()
  set(${var} "${hits}" PARENT_SCOPE)
endfunction()

unset(ENV{DESTDIR})  # the prefix must be the real location

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  set(config_args "")
  if(CONFIG)
    set(config_args --config "${CONFIG}")
  endif()
  run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args})

  file(GLOB_RECURSE installed RELATIVE "${PREFIX}" LIST_DIRECTORIES false "${PREFIX}/*")
  list(JOIN installed "\n  " listing)
  message(STATUS "installed into ${PREFIX}:\n  ${listing}")

  if(NOT EXISTS "${PREFIX}/include/focal/focal.h")
    message(FATAL_ERROR "include/focal/focal.h was not installed")
  endif()
  find_one(pc "*/pkgconfig/focal.pc")
  find_one(config "*/cmake/focal/focalConfig.cmake")
  find_one(config_version "*/cmake/focal/focalConfigVersion.cmake")
  # The development link and the SONAME link are symlinks to the real file.
  find_one(dev_link "*/libfocal.so")
  get_filename_component(libdir "${dev_link}" DIRECTORY)
  foreach(link libfocal.so libfocal.so.1)
    if(NOT IS_SYMLINK "${libdir}/${link}")
      message(FATAL_ERROR "${libdir}/${link} is missing or not a symlink")
    endif()
  endforeach()
  file(REAL_PATH "${libdir}/libfocal.so" real)
  file(REAL_PATH "${libdir}/libfocal.so.1" real_soname)
  if(NOT real STREQUAL real_soname OR NOT EXISTS "${real}" OR IS_SYMLINK "${real}")
    message(FATAL_ERROR "libfocal.so and libfocal.so.1 do not resolve to one file")
  endif()
  message(STATUS "library ${real}")
  return()
endif()

find_one(pc "*/pkgconfig/focal.pc")
get_filename_component(pc_dir "${pc}" DIRECTORY)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})
  function(pkg_config var)
    execute_process(COMMAND "${PKG_CONFIG}" ${ARGN} focal
      RESULT_VARIABLE rc OUTPUT_VARIABLE out OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "pkg-config ${ARGN} focal failed (PKG_CONFIG_PATH=${pc_dir})")
    endif()
    set(${var} "${out}" PARENT_SCOPE)
  endfunction()
  pkg_config(version --modversion)
  pkg_config(flags --cflags --libs)
  pkg_config(libdir --variable=libdir)
  message(STATUS "pkg-config: focal ${version}: ${flags}")
  if(NOT version STREQUAL VERSION)
    message(FATAL_ERROR "focal.pc says version ${version}, the build is ${VERSION}")
  endif()
  # pkg-config escapes spaces with backslashes: undo as a shell would.
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(libdir UNIX_COMMAND "${libdir}")
  set(exe "${WORK_DIR}/consumer")
  run("${C_COMPILER}" -std=c99 -Wall -Wextra -pedantic -Werror
      "${SOURCE_DIR}/consumer.c" ${flags} -o "${exe}")
  # No RPATH from pkg-config: the loader finds the library through libdir.
  run("${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${libdir}" "${exe}")

elseif(MODE STREQUAL "cmake")
  set(configure_args -G "${GENERATOR}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
      "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DFOCAL_EXPECT_VERSION=${VERSION}"
      -DCMAKE_BUILD_TYPE=Release)
  if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/project" -B "${WORK_DIR}" ${configure_args})
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}" --config Release)
  # The imported target carries the library's location: the build RPATH
  # finds it, no LD_LIBRARY_PATH.
  run("${WORK_DIR}/bin/consumer")

else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
