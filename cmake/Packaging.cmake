# Installation layout and the Debian package (CPack DEB; `installer/package.sh` builds it).
#
# Installed (prefix /usr in the package):
#   bin/echo2ecg, bin/echo2ecg-gui                    the programs (stripped in the package)
#   share/echo2ecg/models/                            bundled weights, bundle.json, cards/, MODEL_CARD.md
#                                                     (found by findModelsDir() as <exe dir>/../share/echo2ecg/models)
#   share/applications/echo2ecg.desktop               desktop entry
#   share/icons/hicolor/scalable/apps/echo2ecg.svg    icon
#   share/metainfo/org.echo2ecg.workstation.metainfo.xml   AppStream metadata
#   share/man/man1/echo2ecg.1.gz, echo2ecg-gui.1.gz   man pages
#   share/doc/echo2ecg-workstation/copyright, changelog.gz
# Nothing else: no libraries (core/ and ui/ are static and linked in), no headers, no tests.
# User data (study database, settings, training runs) lives under the user's XDG directories.
include(GNUInstallDirs)

set(E2E_PACKAGE_NAME "echo2ecg-workstation")
set(E2E_PACKAGE_MAINTAINER "Echo2ECG Workstation developers <echo2ecg-workstation@users.noreply.github.com>"
    CACHE STRING "Maintainer field of the Debian package (Name <email>)")
set(E2E_PACKAGE_HOMEPAGE "https://arxiv.org/abs/2603.08505"
    CACHE STRING "Homepage field of the Debian package (the project's page; default: the Echo2ECG paper)")

# Programs.
foreach(t echo2ecg echo2ecg-gui)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# Bundled models: only the bundle's own file types (no editor or Python leftovers).
install(DIRECTORY models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/echo2ecg/models
        FILES_MATCHING PATTERN "*.json" PATTERN "*.pt" PATTERN "*.md")

# `echo2ecg models import` converts published checkpoints with these (Python, Debian's python3-torch).
install(PROGRAMS tools/convert_checkpoint.py DESTINATION ${CMAKE_INSTALL_DATADIR}/echo2ecg/tools)
install(FILES tools/echo2ecg_reference.py DESTINATION ${CMAKE_INSTALL_DATADIR}/echo2ecg/tools)

# Desktop integration (the entry is only useful with the GUI).
if(TARGET echo2ecg-gui)
  install(FILES resources/echo2ecg.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES resources/echo2ecg.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
  install(FILES resources/org.echo2ecg.workstation.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
endif()

# Man pages and the changelog, compressed reproducibly (gzip -n: no name, no time stamp).
find_program(E2E_GZIP gzip REQUIRED)
set(_e2e_pkg_dir ${CMAKE_BINARY_DIR}/packaging)
set(_e2e_gz_outputs)
set(_e2e_man_pages echo2ecg)
if(TARGET echo2ecg-gui)
  list(APPEND _e2e_man_pages echo2ecg-gui)
endif()
foreach(page ${_e2e_man_pages})
  add_custom_command(OUTPUT ${_e2e_pkg_dir}/man/${page}.1.gz
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${_e2e_pkg_dir}/man
                     COMMAND ${E2E_GZIP} -9nc ${CMAKE_SOURCE_DIR}/docs/man/${page}.1 > ${_e2e_pkg_dir}/man/${page}.1.gz
                     DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/${page}.1
                     COMMENT "Compressing the man page ${page}(1)" VERBATIM)
  list(APPEND _e2e_gz_outputs ${_e2e_pkg_dir}/man/${page}.1.gz)
  install(FILES ${_e2e_pkg_dir}/man/${page}.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()

# Debian changelog of this native package (one entry per version). The day of the configure run, or of
# SOURCE_DATE_EPOCH when set; no time of day, so that the file (and the package) only changes once a day.
string(TIMESTAMP _e2e_date "%a, %d %b %Y 00:00:00 +0000" UTC)
file(CONFIGURE OUTPUT ${_e2e_pkg_dir}/changelog.Debian CONTENT
"${E2E_PACKAGE_NAME} (${PROJECT_VERSION}) unstable; urgency=medium

  * Echo2ECG Workstation ${PROJECT_VERSION}, packaged with CPack from the project's sources.

 -- ${E2E_PACKAGE_MAINTAINER}  ${_e2e_date}
" @ONLY)
add_custom_command(OUTPUT ${_e2e_pkg_dir}/changelog.gz
                   COMMAND ${E2E_GZIP} -9nc ${_e2e_pkg_dir}/changelog.Debian > ${_e2e_pkg_dir}/changelog.gz
                   DEPENDS ${_e2e_pkg_dir}/changelog.Debian VERBATIM)
list(APPEND _e2e_gz_outputs ${_e2e_pkg_dir}/changelog.gz)
set(_e2e_doc_dir ${CMAKE_INSTALL_DATADIR}/doc/${E2E_PACKAGE_NAME})
install(FILES resources/debian/copyright ${_e2e_pkg_dir}/changelog.gz DESTINATION ${_e2e_doc_dir})

add_custom_target(e2e_package_files ALL DEPENDS ${_e2e_gz_outputs})
# Everything the install rules need: `cmake --build BUILD --target e2e_installable` (installer/package.sh).
add_custom_target(e2e_installable)
add_dependencies(e2e_installable e2e_package_files)
foreach(t echo2ecg echo2ecg-gui)
  if(TARGET ${t})
    add_dependencies(e2e_installable ${t})
  endif()
endforeach()

# ---- CPack: one Debian package ------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "${E2E_PACKAGE_NAME}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "Echo2ECG Workstation project")
set(CPACK_PACKAGE_CONTACT "${E2E_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${E2E_PACKAGE_HOMEPAGE}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ECG and echocardiography workstation with Echo2ECG research models")
# The extended description (CPack prepends the summary line and formats it for the control file).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"Echo2ECG Workstation imports DICOM ECG waveforms, DICOM echocardiography
loops, WFDB records and echo videos into a local SQLite study database,
shows the ECG on calibrated paper (25 mm/s, 10 mm/mV; 3x4, 6x2, 12x1,
Cabrera) and plays echo loops at their acquired frame rate (Qt 6, VTK).

It runs the Echo2ECG encoders natively (libtorch, CPU): an ECG transformer
aligned with multi-view echo study embeddings, for LVEF-class and
structural heart disease prediction and ECG to echo-study retrieval, and
it can train new model versions. The package holds the command line
program echo2ecg and the workstation echo2ecg-gui.

This is NOT a medical device and must not be used for patient care. The
bundled model weights are trained on synthetic data only (a paired cohort
the project generates itself) and are not clinically validated.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # echo2ecg-workstation_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${E2E_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${E2E_PACKAGE_HOMEPAGE}")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Shared-library dependencies from dpkg-shlibdeps, plus what it cannot see in the ELF files.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(_e2e_extra_depends)
if(TARGET echo2ecg-gui)
  # Qt's platform plugins beyond xcb (offscreen/vnc/wayland helpers) and the fonts of the ECG paper.
  list(APPEND _e2e_extra_depends "qt6-qpa-plugins" "fonts-dejavu-core")
endif()
if(E2E_BUILD_MODELS)
  # Debian's libtorch links libblas.so.3; OpenBLAS takes that slot (netlib's BLAS is 10-50x slower).
  list(APPEND _e2e_extra_depends "libopenblas0-pthread")
endif()
list(JOIN _e2e_extra_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
if(E2E_BUILD_MODELS)
  # `echo2ecg models import` (published OTiS / EchoPrime / Echo2ECG checkpoints) runs a Python converter.
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-torch, python3-torchvision, python3-yaml, python3-omegaconf")
endif()
include(CPack)
