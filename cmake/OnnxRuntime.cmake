# ONNX Runtime is not packaged by Debian 12: scripts/setup.sh downloads the pinned 1.29.0 build
# (sha256-checked) into a cache; here it becomes an IMPORTED target, seam::onnxruntime.
set(_ort_lib "${SEAM_ORT_DIR}/lib/libonnxruntime.so")
set(_ort_inc "${SEAM_ORT_DIR}/include")
if(NOT EXISTS "${_ort_lib}" OR NOT EXISTS "${_ort_inc}/onnxruntime_cxx_api.h")
  message(FATAL_ERROR "ONNX Runtime not found in SEAM_ORT_DIR=${SEAM_ORT_DIR}; "
                      "run scripts/setup.sh (it downloads and unpacks it)")
endif()
add_library(seam_onnxruntime SHARED IMPORTED GLOBAL)
set_target_properties(seam_onnxruntime PROPERTIES
  IMPORTED_LOCATION "${_ort_lib}"
  IMPORTED_SONAME "libonnxruntime.so.1"
  INTERFACE_INCLUDE_DIRECTORIES "${_ort_inc}")
add_library(seam::onnxruntime ALIAS seam_onnxruntime)
# The executables find the library where setup put it, without LD_LIBRARY_PATH.
set(CMAKE_BUILD_RPATH "${SEAM_ORT_DIR}/lib")
set(CMAKE_INSTALL_RPATH "${SEAM_ORT_DIR}/lib")
