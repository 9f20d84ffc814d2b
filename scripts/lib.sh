# Shared by scripts/*: where the environment lives and how to run a command inside it.
# shellcheck shell=bash

SOLARHUB_CACHE="${SOLARHUB_CACHE:-$HOME/.cache/solarhub}"
SID_ROOT="$SOLARHUB_CACHE/sid-root"

# The first Python >= 3.14.2 on PATH, if any.
find_host_python() {
    local candidate
    for candidate in python3.14 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 14, 2))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if HOST_PYTHON="$(find_host_python)"; then
    ENV_KIND=host
    BASE_PYTHON="$HOST_PYTHON"
    VENV_PATH="$SOLARHUB_CACHE/venv-host"
    VENV_HOST_PATH="$VENV_PATH"
else
    ENV_KIND=root
    BASE_PYTHON=/usr/bin/python3.14
    VENV_PATH=/opt/solarhub-venv          # as seen from inside the root
    VENV_HOST_PATH="$SID_ROOT$VENV_PATH"
fi
VENV_STAMP="$VENV_HOST_PATH/.requirements-hash"

requirements_hash() { sha256sum "$REPO/requirements_test.txt" | cut -d' ' -f1; }

# The bubblewrap command line of the Debian root, with the repository (and its parent, for ../shared) at
# its own path. The private /tmp comes first, so a repository under /tmp is bound over it, not hidden.
sandbox() {
    local parent
    parent="$(dirname "$REPO")"
    SANDBOX=(bwrap --die-with-parent --bind "$SID_ROOT" / --proc /proc --dev /dev --tmpfs /tmp
        --bind "$parent" "$parent" --bind "$SOLARHUB_CACHE" "$SOLARHUB_CACHE"
        --ro-bind /etc/resolv.conf /etc/resolv.conf --setenv HOME /root --chdir "$PWD")
}

# Run a command inside the Debian root.
in_root() { sandbox; "${SANDBOX[@]}" "$@"; }

# Run a command in the environment (host or root), unchanged otherwise.
env_exec() {
    if [ "$ENV_KIND" = root ]; then in_root "$@"; else "$@"; fi
}

run_python() { env_exec "$VENV_PATH/bin/python" "$@"; }

# Replace this shell by a command run in the environment with the virtualenv first on PATH.
exec_in_env() {
    local path="$VENV_PATH/bin:/usr/local/bin:/usr/bin:/bin"
    if [ "$ENV_KIND" = root ]; then
        sandbox
        exec "${SANDBOX[@]}" --setenv PATH "$path" --setenv VIRTUAL_ENV "$VENV_PATH" "$@"
    fi
    PATH="$VENV_PATH/bin:$PATH" VIRTUAL_ENV="$VENV_PATH" exec "$@"
}
