# Sourced by the other scripts: where setup puts the tools, and what the build needs to find them.
tools_dir=${TAILOR_TOOLS_DIR:-$HOME/.local/share/tailor}
export TAILOR_TOOLS_DIR=$tools_dir
torch_venv="$tools_dir/torch-2.11.0"
if [ -x "$torch_venv/bin/python" ]; then
    LIBTORCH="$("$torch_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch"
    export LIBTORCH
fi
# cargo-fuzz, installed by setup for scripts/fuzz.
cargo_fuzz="$tools_dir/cargo-fuzz-0.13.2/bin/cargo-fuzz"
