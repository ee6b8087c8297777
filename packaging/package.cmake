# The Debian package: desktop integration, manual pages and Debian documentation files, and
# the CPack settings that turn an install into build/quantscope_VERSION_amd64.deb.
# packaging/dev.sh package builds it; the executables and the example models are installed
# by app/gui and app/cli, and the helper libhdf5 parses files in first (quantscope-probe) by
# app/probe, to /usr/libexec/quantscope where the engine looks for it next to /usr/bin.
include(GNUInstallDirs)

set(QS_APP_ID "org.example.quantscope")
set(_qs_pkg_src "${CMAKE_CURRENT_LIST_DIR}")
set(_qs_pkg_bin "${CMAKE_CURRENT_BINARY_DIR}/packaging")
# Debian's documentation directory is named after the package, not the CMake project.
set(_qs_docdir "${CMAKE_INSTALL_DATADIR}/doc/quantscope")

if(QS_BUILD_GUI)
  install(FILES "${_qs_pkg_src}/${QS_APP_ID}.desktop"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")
  install(FILES "${_qs_pkg_src}/${QS_APP_ID}.svg"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps")
  install(FILES "${_qs_pkg_src}/${QS_APP_ID}.metainfo.xml"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")
endif()

# Manual pages and the changelog are shipped gzip -9n compressed (no name, no time stamp), as
# Debian policy asks; compressing them is part of the build so an install only copies files.
find_program(QS_GZIP gzip REQUIRED)
set(_qs_gz_files)
foreach(_qs_in quantscope.1 quantscope-cli.1 changelog)
  set(_qs_out "${_qs_pkg_bin}/${_qs_in}.gz")
  add_custom_command(
    OUTPUT "${_qs_out}"
    COMMAND "${CMAKE_COMMAND}" -E copy "${_qs_pkg_src}/${_qs_in}" "${_qs_pkg_bin}/${_qs_in}"
    COMMAND "${QS_GZIP}" -9nf "${_qs_pkg_bin}/${_qs_in}"
    DEPENDS "${_qs_pkg_src}/${_qs_in}"
    COMMENT "Compressing packaging/${_qs_in}"
    VERBATIM)
  list(APPEND _qs_gz_files "${_qs_out}")
endforeach()
add_custom_target(quantscope_package_docs ALL DEPENDS ${_qs_gz_files})

set(_qs_man "${_qs_pkg_bin}/quantscope-cli.1.gz")
if(QS_BUILD_GUI)
  list(APPEND _qs_man "${_qs_pkg_bin}/quantscope.1.gz")
endif()
install(FILES ${_qs_man} DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${_qs_pkg_bin}/changelog.gz" "${_qs_pkg_src}/copyright" DESTINATION "${_qs_docdir}")

# CPack: one binary package for Debian 12 (amd64). Library dependencies come from
# dpkg-shlibdeps; the accuracy lab's images are recommended, not required, because everything
# else works without them and the lab says which package to install when they are missing.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "quantscope")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "QuantScope developers")
set(CPACK_PACKAGE_CONTACT "QuantScope developers <quantscope@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "inspect and compare the quantization of neural-network weights")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT") # quantscope_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"QuantScope shows what quantization does to a neural network's weights. It
opens model files (safetensors, GGUF, ONNX, PyTorch checkpoints, Keras HDF5
and NumPy), quantizes each layer to a chosen number format (FP16, BF16, FP8,
INT8, INT4, NF4, MXFP4 and the ggml block formats) in the background, and
shows weight and error histograms, SQNR, MSE and the size saved, layer by
layer.

Plans can be compared side by side, a format per layer can be chosen under a
size budget, the accuracy of a quantized image classifier can be measured on
a built-in runtime, and interactive lessons explain the ideas. Quantized
models are exported as GGUF, safetensors or HDF5.

This package contains the desktop application (quantscope), the command-line
program (quantscope-cli) and two example models.")
include(CPack)
