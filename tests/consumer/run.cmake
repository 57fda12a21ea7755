# SPDX-License-Identifier: MIT
# Consumer test driver, run as `cmake -DMODE=... -P run.cmake` by ctest.
#
#   MODE=install    cmake --install BUILD_DIR into a fresh PREFIX, check the layout;
#                   PREFIX/bin/focal-bench --help runs without LD_LIBRARY_PATH
#   MODE=pkgconfig  compile consumer.c with `pkg-config --cflags --libs focal`, run it
#   MODE=cmake      build project/ (find_package(focal 1 CONFIG)), run it
#   MODE=static     from PREFIX: libfocal.a exports exactly libfocal.so.1's symbols;
#                   project/ with focal::focal_static, and consumer.c linked through
#                   `pkg-config --static`, run without libfocal.so; static_init.c
#                   shows the load-time constructors ran
#   MODE=add_subdirectory, MODE=fetchcontent
#                   build subproject/ (libfocal from ROOT_DIR as a subproject; its
#                   configuration checks what libfocal defined), run its programs
#
# Other variables (set by CMakeLists.txt): BUILD_DIR PREFIX WORK_DIR SOURCE_DIR
# ROOT_DIR CONFIG VERSION C_COMPILER GENERATOR MAKE_PROGRAM PKG_CONFIG NM
# READELF. Native builds only: the programs run on the build machine.
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

# Runs a program built here with libfocal's environment variables unset.
function(run_program exe)
  run("${CMAKE_COMMAND}" -E env --unset=FOCAL_ISA --unset=FOCAL_NUM_THREADS ${ARGN} "${exe}")
endfunction()

# A program linked with libfocal.a must not need libfocal.so.
function(check_static exe)
  execute_process(COMMAND "${READELF}" -d "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "readelf -d ${exe} failed")
  endif()
  if(out MATCHES "NEEDED[^\n]*libfocal")
    message(FATAL_ERROR "${exe} was meant to link libfocal.a but needs libfocal.so:\n${out}")
  endif()
  if(NOT out MATCHES "NEEDED[^\n]*libsleef")
    message(FATAL_ERROR "${exe} does not need libsleef: was libfocal linked at all?\n${out}")
  endif()
endfunction()

# Sorted names of the global symbols <file> defines (nm <args>), versions cut.
function(defined_symbols var file)
  execute_process(COMMAND "${NM}" ${ARGN} --defined-only "${file}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm ${ARGN} --defined-only ${file} failed")
  endif()
  string(REGEX MATCHALL "[0-9a-fA-F]+ [BDGRSTVW] [^\n@]+" lines "${out}")
  set(names "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[0-9a-fA-F]+ . " "" name "${line}")
    list(APPEND names "${name}")
  endforeach()
  list(SORT names)
  set(${var} "${names}" PARENT_SCOPE)
endfunction()

# libfocal.a hides what libfocal.so.1 hides: its global symbols are exactly
# the shared library's exported ones (the public API), nothing internal.
function(check_archive_symbols archive shared)
  defined_symbols(in_archive "${archive}" -g)
  defined_symbols(in_shared "${shared}" -D)
  if(NOT in_archive STREQUAL in_shared OR NOT in_archive)
    message(FATAL_ERROR "global symbols of ${archive}:\n  ${in_archive}\n"
      "differ from those exported by ${shared}:\n  ${in_shared}")
  endif()
  list(LENGTH in_archive count)
  message(STATUS "${archive}: ${count} global symbols, those of ${shared}")
endfunction()

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
  find_one(archive "*/libfocal.a")
  # focal-bench and its plot script, when the build has them. The program
  # runs from the prefix with nothing telling the loader where libfocal.so.1
  # is: its RUNPATH, relative to itself, finds the installed copy.
  if(EXISTS "${BUILD_DIR}/bench/focal-bench")
    foreach(tool focal-bench focal-bench-plot)
      if(NOT EXISTS "${PREFIX}/bin/${tool}")
        message(FATAL_ERROR "bin/${tool} was not installed")
      endif()
    endforeach()
    execute_process(COMMAND "${READELF}" -d "${PREFIX}/bin/focal-bench" OUTPUT_VARIABLE dynamic)
    string(REGEX MATCH "(RPATH|RUNPATH)[^\n]*" search_path "${dynamic}")
    message(STATUS "bin/focal-bench: ${search_path}")
    if(NOT search_path MATCHES "\\$ORIGIN")
      message(FATAL_ERROR "bin/focal-bench has no search path relative to itself: ${search_path}")
    endif()
    execute_process(
      COMMAND "${CMAKE_COMMAND}" -E env --unset=LD_LIBRARY_PATH --unset=FOCAL_ISA
              --unset=FOCAL_NUM_THREADS "${PREFIX}/bin/focal-bench" --help
      RESULT_VARIABLE rc OUTPUT_VARIABLE help ERROR_VARIABLE help)
    if(NOT rc EQUAL 0 OR NOT help MATCHES "^Usage: focal-bench")
      message(FATAL_ERROR "${PREFIX}/bin/focal-bench --help, LD_LIBRARY_PATH unset, "
        "failed (${rc}):\n${help}")
    endif()
  endif()
  return()
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
if(NOT MODE MATCHES "^(add_subdirectory|fetchcontent)$")
  find_one(pc "*/pkgconfig/focal.pc")
  get_filename_component(pc_dir "${pc}" DIRECTORY)
endif()

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

elseif(MODE STREQUAL "static")
  find_one(archive "*/libfocal.a")
  find_one(shared "*/libfocal.so.1")
  check_archive_symbols("${archive}" "${shared}")

  # The installed CMake package's focal::focal_static.
  set(configure_args -G "${GENERATOR}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
      "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DFOCAL_EXPECT_VERSION=${VERSION}"
      -DFOCAL_LINK=static -DCMAKE_BUILD_TYPE=Release)
  if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/project" -B "${WORK_DIR}/cmake" ${configure_args})
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake" --config Release)
  foreach(program consumer static_init)
    check_static("${WORK_DIR}/cmake/bin/${program}")
    run_program("${WORK_DIR}/cmake/bin/${program}")
  endforeach()

  # pkg-config: the archive by -Bstatic, what it needs from --static
  # (--as-needed drops the shared -lfocal that --libs also lists).
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})
  execute_process(COMMAND "${PKG_CONFIG}" --cflags focal
    RESULT_VARIABLE rc1 OUTPUT_VARIABLE cflags OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND "${PKG_CONFIG}" --static --libs focal
    RESULT_VARIABLE rc2 OUTPUT_VARIABLE static_libs OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND "${PKG_CONFIG}" --libs focal
    RESULT_VARIABLE rc3 OUTPUT_VARIABLE libs OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT rc3 EQUAL 0)
    message(FATAL_ERROR "pkg-config focal failed (PKG_CONFIG_PATH=${pc_dir})")
  endif()
  message(STATUS "pkg-config --static --libs focal: ${static_libs}")
  foreach(lib -lsleef -lm -pthread)
    if(NOT " ${static_libs} " MATCHES " ${lib} ")
      message(FATAL_ERROR "pkg-config --static --libs focal lacks ${lib}: ${static_libs}")
    endif()
  endforeach()
  separate_arguments(cflags UNIX_COMMAND "${cflags}")
  separate_arguments(static_libs UNIX_COMMAND "${static_libs}")
  separate_arguments(libs UNIX_COMMAND "${libs}")
  set(exe "${WORK_DIR}/consumer_pkgconfig")
  run("${C_COMPILER}" -std=c99 -Wall -Wextra -pedantic -Werror "${SOURCE_DIR}/consumer.c"
      ${cflags} -Wl,-Bstatic -lfocal -Wl,-Bdynamic -Wl,--as-needed ${static_libs} -o "${exe}")
  check_static("${exe}")
  run_program("${exe}")
  # The same link without --static must fail (SLEEF missing): the private
  # entries are what make the static link work.
  execute_process(COMMAND "${C_COMPILER}" -std=c99 "${SOURCE_DIR}/consumer.c" ${cflags}
      -Wl,-Bstatic -lfocal -Wl,-Bdynamic -Wl,--as-needed ${libs} -o "${exe}_nostatic"
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    message(FATAL_ERROR "libfocal.a linked without pkg-config --static: "
      "then the static test above proves nothing")
  endif()

elseif(MODE STREQUAL "add_subdirectory" OR MODE STREQUAL "fetchcontent")
  # No CMAKE_BUILD_TYPE: subproject/ checks that libfocal leaves it unset
  # (which also compiles the library without optimization: quick).
  set(configure_args -G "${GENERATOR}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
      "-DFOCAL_HOW=${MODE}" "-DFOCAL_SOURCE_DIR=${ROOT_DIR}")
  if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/subproject" -B "${WORK_DIR}" ${configure_args})
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}")
  file(GLOB_RECURSE archive "${WORK_DIR}/*/libfocal.a")
  file(GLOB_RECURSE shared "${WORK_DIR}/*/libfocal.so.1")
  check_archive_symbols("${archive}" "${shared}")
  run_program("${WORK_DIR}/bin/consumer")
  foreach(program consumer_static static_init)
    check_static("${WORK_DIR}/bin/${program}")
    run_program("${WORK_DIR}/bin/${program}")
  endforeach()

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
