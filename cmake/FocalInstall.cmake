# SPDX-License-Identifier: MIT
# Install rules: header, library with its SONAME links, focal.pc and a CMake
# package (find_package(focal 1 CONFIG) -> focal::focal) that accepts any 1.x.
include(CMakePackageConfigHelpers)

install(TARGETS focal EXPORT focalTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  PUBLIC_HEADER DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/focal")
# libfocal.a as focal::focal_static (src/CMakeLists.txt says why both).
if(TARGET focal_static)
  install(TARGETS focal_static EXPORT focalTargets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
endif()

set(focal_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/focal")
install(EXPORT focalTargets NAMESPACE focal:: DESTINATION "${focal_cmake_dir}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/focalConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/focalConfig.cmake"
  INSTALL_DESTINATION "${focal_cmake_dir}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/focalConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/focalConfig.cmake"
  "${PROJECT_BINARY_DIR}/focalConfigVersion.cmake"
  DESTINATION "${focal_cmake_dir}")

# focal.pc locates the prefix relative to itself, so an install moved with
# `cmake --install --prefix` (or DESTDIR) stays usable.
file(RELATIVE_PATH focal_pc_to_prefix
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
# A static link (pkg-config --static) also needs what libfocal.a uses: SLEEF
# through its own focal.pc (Requires.private: its -L and -l come from there),
# the thread library and libm (Libs.private).
configure_file("${PROJECT_SOURCE_DIR}/cmake/focal.pc.in" "${PROJECT_BINARY_DIR}/focal.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/focal.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
