# CMake package of the torch_ext Python package (torch_ext.cmake_prefix_path), which carries one
# build per torch minor release (torch_ext/_builds/torch<major>_<minor>/, each with its own
# CMake package). Finds Torch, then includes the build for that Torch's minor release; with no
# such build, find_package(TorchExt) fails at configure time naming the Torch found and the
# builds carried. Provides the imported target TorchExt::torch_ext, as a C++-only install does.
get_filename_component(_torch_ext_package "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

include(CMakeFindDependencyMacro)
include("${CMAKE_CURRENT_LIST_DIR}/TorchCudaHints.cmake")
find_dependency(Torch)

string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _torch_ext_minor "${Torch_VERSION}")
set(_torch_ext_build "${_torch_ext_package}/_builds/torch${CMAKE_MATCH_1}_${CMAKE_MATCH_2}")
if(EXISTS "${_torch_ext_build}/share/cmake/TorchExt/TorchExtConfig.cmake")
  include("${_torch_ext_build}/share/cmake/TorchExt/TorchExtConfig.cmake")
else()
  set(_torch_ext_carried "")
  file(GLOB _torch_ext_infos "${_torch_ext_package}/_builds/*/_build_info.json")
  foreach(_info IN LISTS _torch_ext_infos)
    file(READ "${_info}" _torch_ext_json)
    string(JSON _torch_ext_carried_version GET "${_torch_ext_json}" torch_version)
    list(APPEND _torch_ext_carried "torch ${_torch_ext_carried_version}")
  endforeach()
  if(NOT _torch_ext_carried)
    set(_torch_ext_carried "none")
  endif()
  list(JOIN _torch_ext_carried ", " _torch_ext_carried)
  set(TorchExt_FOUND FALSE)
  set(TorchExt_NOT_FOUND_MESSAGE
      "find_package(Torch) found Torch ${Torch_VERSION} (${Torch_DIR}), and torch_ext at "
      "${_torch_ext_package} has no build for it; it carries builds for: ${_torch_ext_carried}. "
      "Point CMAKE_PREFIX_PATH at a torch of one of those minor releases, or build torch_ext "
      "from source against this one (docs/building.md).")
endif()
