#!/usr/bin/env bash
# Provide the `etcd` and `kube-apiserver` executables used by the real-API-server
# tests (tests/cluster/).  The result is a folder in the envtest /
# KUBEBUILDER_ASSETS layout (one folder holding both executables), cached
# outside the repository so the expensive part happens once per machine.
#
#   bash scripts/get-kube-assets.sh            # prints the assets folder on stdout
#
# Environment:
#   KUBEBUILDER_ASSETS          if it already holds both executables, it is used as is
#   ASM_ADVISOR_ASSETS          cache folder (default: $HOME/.cache/asm-advisor/kube-assets)
#   ASM_ADVISOR_KUBE_BUILD_DIR  scratch folder for the kube-apiserver build
#                               (default: <cache parent>/kube-build)
#   ASM_ADVISOR_KEEP_BUILD=1    keep the build tree afterwards (default: delete it)
#   ASM_ADVISOR_FORCE_GO=1      try the build even with an untested Go version
#
# How the executables are obtained (Debian bookworm or a derivative):
#   etcd            Debian package `etcd-server` (3.4.x); /usr/bin/etcd is copied
#                   into the cache.  Its service is kept from starting.
#   kube-apiserver  built from Debian's `kubernetes` source package
#                   (1.20.5+really1.20.2, the complete upstream tree with vendor/)
#                   with Debian's `golang-go` (1.19), in GOPATH mode like
#                   debian/rules.  The vendored github.com/modern-go/reflect2
#                   v1.0.1 is first adapted to Go >= 1.18, whose
#                   reflect.mapiterinit fills a caller-supplied iterator instead
#                   of returning one; unpatched, the server crashes with
#                   "unexpected fault address" in mapiterinit on its first requests.
#                   The deb-src entry needed by `apt-get source` is derived from
#                   this machine's own Debian apt sources.
set -euo pipefail

readonly K8S_SRC_SUITE="bookworm"          # suite carrying kubernetes 1.20.5+really1.20.2
readonly K8S_SRC_PACKAGE="kubernetes"
readonly DEB_SRC_BASENAME="asm-advisor-deb-src"

# Same default as tests/cluster/apiserver.py (Path.home() falls back to passwd too).
HOME_DIR="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
ASSETS_DIR="${ASM_ADVISOR_ASSETS:-${HOME_DIR}/.cache/asm-advisor/kube-assets}"
BUILD_ROOT="${ASM_ADVISOR_KUBE_BUILD_DIR:-$(dirname "${ASSETS_DIR}")/kube-build}"
KEEP_BUILD="${ASM_ADVISOR_KEEP_BUILD:-0}"
FORCE_GO="${ASM_ADVISOR_FORCE_GO:-0}"

log() { printf '[get-kube-assets] %s\n' "$*" >&2; }
die() { printf '[get-kube-assets] ERROR: %s\n' "$*" >&2; exit 1; }

# An executable that runs and answers --version.
works() { [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1; }
has_assets() { works "$1/etcd" && works "$1/kube-apiserver"; }

# --- fast paths --------------------------------------------------------------
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]] && has_assets "${KUBEBUILDER_ASSETS}"; then
    log "KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS} already holds etcd and kube-apiserver; nothing to do"
    printf '%s\n' "${KUBEBUILDER_ASSETS}"
    exit 0
fi
if has_assets "${ASSETS_DIR}"; then
    log "cache ${ASSETS_DIR} already holds etcd and kube-apiserver; nothing to do"
    printf '%s\n' "${ASSETS_DIR}"
    exit 0
fi

# --- privileges / helpers ------------------------------------------------------
SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "needs root (or sudo) to install Debian packages"
    SUDO=(sudo)
fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script expects Debian bookworm (or a derivative)"

mkdir -p "${ASSETS_DIR}"
# Serialise concurrent runs (e.g. two test sessions starting at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${ASSETS_DIR}/.lock"
    if ! flock -n 9; then
        log "another run holds ${ASSETS_DIR}/.lock; waiting for it"
        flock 9
    fi
    if has_assets "${ASSETS_DIR}"; then
        log "another run filled ${ASSETS_DIR} meanwhile"
        printf '%s\n' "${ASSETS_DIR}"
        exit 0
    fi
fi

CLEANUP=()
cleanup() {
    local item
    for item in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do
        eval "${item}" || true
    done
}
trap cleanup EXIT

APT_UPDATED=0
apt_update_once() {
    if [[ "${APT_UPDATED}" -eq 0 ]]; then
        log "apt-get update"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
            || die "apt-get update failed"
        APT_UPDATED=1
    fi
}

pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# Install the given packages (those not yet installed) without starting services.
apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "${p}" || missing+=("${p}")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    apt_update_once
    # policy-rc.d exit 101 = "action forbidden": package scripts must not start daemons.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        log "temporarily installing /usr/sbin/policy-rc.d so no service starts"
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${SUDO[@]}" chmod 0755 /usr/sbin/policy-rc.d
        CLEANUP+=("${SUDO[*]:-} rm -f /usr/sbin/policy-rc.d")
    fi
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
}

# ==============================================================================
# etcd
# ==============================================================================
get_etcd() {
    if works "${ASSETS_DIR}/etcd"; then
        log "etcd already cached"
        return 0
    fi
    if ! pkg_installed etcd-server; then
        apt_install etcd-server
        # Only the executable is needed: the package enables an etcd service
        # (default ports 2379/2380).  policy-rc.d kept it from starting now;
        # also keep it from starting at the next boot, and stop it should a
        # running systemd have started it regardless.
        if command -v systemctl >/dev/null 2>&1; then
            if [[ -d /run/systemd/system ]]; then
                "${SUDO[@]}" systemctl stop etcd.service >/dev/null 2>&1 || true
            fi
            "${SUDO[@]}" systemctl disable etcd.service >/dev/null 2>&1 || true
        fi
    fi
    [[ -x /usr/bin/etcd ]] || die "package etcd-server is installed but /usr/bin/etcd is missing"
    install -m 0755 /usr/bin/etcd "${ASSETS_DIR}/etcd.tmp"
    mv -f "${ASSETS_DIR}/etcd.tmp" "${ASSETS_DIR}/etcd"
    log "etcd: $("${ASSETS_DIR}/etcd" --version 2>&1 | head -n1)"
}

# ==============================================================================
# kube-apiserver
# ==============================================================================

# Print the machine's Debian codename.
machine_codename() {
    local codename=""
    if [[ -r /etc/os-release ]]; then
        # shellcheck disable=SC1091  # a system file, read at run time
        codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
    fi
    printf '%s' "${codename}"
}

# Is there already a deb-src entry for ${K8S_SRC_SUITE}?
have_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r "${f}" ]] || continue
        if grep -Eq "^[[:space:]]*deb-src([[:space:]]+\[[^]]*\])?[[:space:]]+[^[:space:]]+[[:space:]]+${K8S_SRC_SUITE}[[:space:]]" "${f}"; then
            return 0
        fi
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r "${f}" ]] || continue
        if awk -v suite="${K8S_SRC_SUITE}" '
            function check() {
                if (types ~ /(^|[ \t])deb-src([ \t]|$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no") found = 1
                types = ""; suites = ""; enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { check(); next }
            tolower($0) ~ /^types:/   { types = substr($0, 7) }
            tolower($0) ~ /^suites:/  { suites = substr($0, 8) }
            tolower($0) ~ /^enabled:/ { enabled = tolower($2) }
            END { check(); exit(found ? 0 : 1) }' "${f}"; then
            return 0
        fi
    done
    return 1
}

# Derive a deb-src entry for ${K8S_SRC_SUITE} from the machine's own Debian
# "deb" entry (same mirror, same keyring) and write it to sources.list.d.
DEB_SRC_READY=0
ensure_deb_src() {
    [[ "${DEB_SRC_READY}" -eq 1 ]] && return 0
    DEB_SRC_READY=1
    if have_deb_src; then
        log "a deb-src entry for ${K8S_SRC_SUITE} already exists"
        return 0
    fi
    local codename
    codename="$(machine_codename)"
    [[ -n "${codename}" ]] || die "cannot read VERSION_CODENAME from /etc/os-release"

    local f best_score=-1 best_file="" best_kind="" best_ref="" line
    # deb822 files: candidates are stanzas with Types "deb", Suites containing
    # the machine codename and Components containing "main".  Score prefers the
    # Debian archive keyring / a ".../debian" path over third-party repositories.
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r "${f}" ]] || continue
        while IFS=$'\t' read -r score idx; do
            if (( score > best_score )); then
                best_score=${score}; best_file="${f}"; best_kind=deb822; best_ref="${idx}"
            fi
        done < <(awk -v want="${codename}" '
            function check() {
                if (n > 0 && types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " want " ") \
                    && (" " comps " ") ~ / main / && enabled != "no") {
                    s = 1
                    if (text ~ /debian-archive-keyring/) s += 2
                    if (uris ~ /\/debian\/?([ \t]|$)/) s += 1
                    printf "%d\t%d\n", s, n
                }
                types = ""; suites = ""; comps = ""; uris = ""; enabled = ""; text = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { if (text != "") check(); next }
            {
                if (text == "") n++
                text = text $0 "\n"
                l = tolower($0)
                if (l ~ /^types:/)      types = substr($0, 7)
                if (l ~ /^suites:/)     suites = substr($0, 8)
                if (l ~ /^components:/) comps = substr($0, 12)
                if (l ~ /^uris:/)       uris = substr($0, 6)
                if (l ~ /^enabled:/)    enabled = tolower($2)
            }
            END { if (text != "") check() }' "${f}")
    done
    # One-line-style files.
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r "${f}" ]] || continue
        while IFS=$'\t' read -r score lineno; do
            if (( score > best_score )); then
                best_score=${score}; best_file="${f}"; best_kind=list; best_ref="${lineno}"
            fi
        done < <(awk -v want="${codename}" '
            /^[ \t]*#/ { next }
            $1 == "deb" {
                rest = $0
                sub(/^[ \t]*deb[ \t]+/, "", rest)
                opts = ""
                if (rest ~ /^\[/) { opts = rest; sub(/\].*$/, "]", opts); sub(/^\[[^]]*\][ \t]*/, "", rest) }
                split(rest, a, /[ \t]+/)
                if (a[2] != want) next
                main = 0
                for (i = 3; i in a; i++) if (a[i] == "main") main = 1
                if (!main) next
                s = 1
                if (opts ~ /debian-archive-keyring/) s += 2
                if (a[1] ~ /\/debian\/?$/) s += 1
                printf "%d\t%d\n", s, NR
            }' "${f}")
    done
    [[ -n "${best_file}" ]] || die "found no Debian 'deb' entry for suite ${codename} with component main in /etc/apt/sources.list{,.d}; add a deb-src line for ${K8S_SRC_SUITE} by hand"

    local target
    if [[ "${best_kind}" == deb822 ]]; then
        target="/etc/apt/sources.list.d/${DEB_SRC_BASENAME}.sources"
        log "deriving deb-src entry from ${best_file} (stanza ${best_ref}) -> ${target}"
        awk -v want="${best_ref}" -v suite="${K8S_SRC_SUITE}" '
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { if (started) { started = 0 } ; next }
            {
                if (!started) { n++; started = 1 }
                if (n != want) next
                l = tolower($0)
                if (l ~ /^types:/)      { print "Types: deb-src"; next }
                if (l ~ /^suites:/)     { print "Suites: " suite; next }
                if (l ~ /^components:/) { print "Components: main"; next }
                if (l ~ /^enabled:/)    { next }
                print
            }' "${best_file}" | "${SUDO[@]}" tee "${target}.tmp" >/dev/null
    else
        target="/etc/apt/sources.list.d/${DEB_SRC_BASENAME}.list"
        line="$(sed -n "${best_ref}p" "${best_file}")"
        log "deriving deb-src entry from ${best_file}:${best_ref} -> ${target}"
        printf '%s\n' "${line}" | awk -v suite="${K8S_SRC_SUITE}" '{
            rest = $0
            sub(/^[ \t]*deb[ \t]+/, "", rest)
            opts = ""
            if (rest ~ /^\[/) { opts = rest; sub(/\].*$/, "] ", opts); sub(/^\[[^]]*\][ \t]*/, "", rest) }
            split(rest, a, /[ \t]+/)
            printf "deb-src %s%s %s main\n", opts, a[1], suite
        }' | "${SUDO[@]}" tee "${target}.tmp" >/dev/null
    fi
    "${SUDO[@]}" mv -f "${target}.tmp" "${target}"
    # The package lists must be refreshed to see the new source index.
    APT_UPDATED=0
}

# Check that the Go toolchain suits kubernetes 1.20 + the reflect2 patch.
check_go() {
    local goversion major minor
    goversion="$(go env GOVERSION 2>/dev/null || go version | awk '{print $3}')"
    if [[ ! "${goversion}" =~ ^go([0-9]+)\.([0-9]+) ]]; then
        die "cannot parse the Go version '${goversion}' of $(command -v go)"
    fi
    major="${BASH_REMATCH[1]}"; minor="${BASH_REMATCH[2]}"
    log "using ${goversion} ($(command -v go))"
    if (( major != 1 || minor < 15 )); then
        die "${goversion} is too old for kubernetes 1.20 (needs >= go1.15; Debian bookworm's golang-go is 1.19)"
    fi
    if (( minor >= 24 )); then
        # Go 1.24 replaced the map implementation: reflect's iterator layout no
        # longer matches the one patched into reflect2 below.
        [[ "${FORCE_GO}" == 1 ]] || die "${goversion} is not compatible with this recipe: the reflect2 patch assumes the Go 1.18-1.23 map iterator and kubernetes 1.20 was only validated with go1.19 (Debian bookworm golang-go). Install Debian bookworm's golang-go (1.19) or set ASM_ADVISOR_FORCE_GO=1 to try anyway."
        log "WARNING: ${goversion} forced; the resulting kube-apiserver may crash"
    elif (( minor != 19 )); then
        log "WARNING: ${goversion} is not the validated go1.19 (Debian bookworm golang-go); the build may fail"
    fi
}

# Adapt vendored github.com/modern-go/reflect2 v1.0.1 to Go >= 1.18.
# Since Go 1.18 reflect.mapiterinit(t, m, it *hiter) fills the iterator it is
# given (whose full layout must therefore be known) instead of returning one.
# Both variants are provided behind build constraints; the shared code calls
# newMapIter().  Idempotent: a marker file records that the patch is in place.
patch_reflect2() {
    local dir="$1/vendor/github.com/modern-go/reflect2"
    [[ -f "${dir}/unsafe_link.go" && -f "${dir}/unsafe_map.go" ]] \
        || die "vendored reflect2 not found under ${dir}"
    if [[ -f "${dir}/go_mapiter_compat.go" ]]; then
        log "reflect2 already adapted to go1.18+"
        return 0
    fi
    grep -q 'func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) \*hiter' "${dir}/unsafe_link.go" \
        || die "unexpected reflect2 source in ${dir}: mapiterinit declaration not found (not v1.0.1?)"
    log "adapting vendored reflect2 to go1.18+ map iteration"

    # 1. Remove the old mapiterinit declaration and the short hiter type.
    awk '
        /^\/\/ m escapes into the return value/ { skip_decl = 1 }
        skip_decl { if ($0 ~ /^func mapiterinit\(/) skip_decl = 0; next }
        /^\/\/ A hash iteration structure\./ { skip_type = 1 }
        skip_type { if ($0 ~ /^}/) skip_type = 0; next }
        /^\/\/ If you modify hiter/ { next }
        { print }' "${dir}/unsafe_link.go" >"${dir}/unsafe_link.go.new"
    mv -f "${dir}/unsafe_link.go.new" "${dir}/unsafe_link.go"
    if grep -q 'mapiterinit\|type hiter' "${dir}/unsafe_link.go"; then
        die "patching ${dir}/unsafe_link.go failed"
    fi

    # 2. The map type calls the version-independent constructor.
    sed -i 's/hiter:      mapiterinit(type2.rtype, \*(\*unsafe.Pointer)(obj)),/hiter:      newMapIter(type2.rtype, *(*unsafe.Pointer)(obj)),/' \
        "${dir}/unsafe_map.go"
    grep -q 'newMapIter(type2.rtype' "${dir}/unsafe_map.go" || die "patching ${dir}/unsafe_map.go failed"

    # 3. Go < 1.18: the runtime allocates and returns the iterator.
    cat >"${dir}/go_below_118.go" <<'EOF'
//go:build !go1.18
// +build !go1.18

package reflect2

import "unsafe"

// Before Go 1.18 reflect.mapiterinit allocates the iterator itself.
//go:noescape
//go:linkname mapiterinit reflect.mapiterinit
func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) *hiter

// Only the first two words of the runtime iterator are read here.
type hiter struct {
	key   unsafe.Pointer // current key; nil once iteration is over
	value unsafe.Pointer // current element
}

func newMapIter(rtype unsafe.Pointer, m unsafe.Pointer) *hiter {
	return mapiterinit(rtype, m)
}
EOF

    # 4. Go >= 1.18: allocate a full-size iterator and let reflect fill it.
    cat >"${dir}/go_above_118.go" <<'EOF'
//go:build go1.18
// +build go1.18

package reflect2

import "unsafe"

// Since Go 1.18 reflect.mapiterinit initialises an iterator owned by the caller.
//go:noescape
//go:linkname mapiterinit reflect.mapiterinit
func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)

// Mirror of the runtime's map iterator (runtime.hiter, Go 1.18-1.23): the
// runtime writes every field, so size and pointer layout must match exactly.
type hiter struct {
	key         unsafe.Pointer // current key; nil once iteration is over
	value       unsafe.Pointer // current element
	t           unsafe.Pointer
	h           unsafe.Pointer
	buckets     unsafe.Pointer
	bptr        unsafe.Pointer
	overflow    *[]unsafe.Pointer
	oldoverflow *[]unsafe.Pointer
	startBucket uintptr
	offset      uint8
	wrapped     bool
	B           uint8
	i           uint8
	bucket      uintptr
	checkBucket uintptr
}

func newMapIter(rtype unsafe.Pointer, m unsafe.Pointer) *hiter {
	it := new(hiter)
	mapiterinit(rtype, m, it)
	return it
}
EOF

    # Marker (also documents the change inside the tree).
    cat >"${dir}/go_mapiter_compat.go" <<'EOF'
package reflect2

// This copy of reflect2 v1.0.1 was adapted by asm-advisor's
// scripts/get-kube-assets.sh: map iteration goes through newMapIter, defined
// in go_below_118.go / go_above_118.go for the two reflect.mapiterinit ABIs.
EOF
}

get_kube_apiserver() {
    if works "${ASSETS_DIR}/kube-apiserver"; then
        log "kube-apiserver already cached"
        return 0
    fi
    ensure_deb_src
    apt_update_once
    apt_install golang-go rsync dpkg-dev make patch

    # Debian's Go first, as debian/rules does (a newer Go elsewhere on PATH would
    # not match the reflect2 patch).
    export PATH="/usr/lib/go/bin:${PATH}"
    check_go

    mkdir -p "${BUILD_ROOT}"
    local src
    src="$(find "${BUILD_ROOT}" -mindepth 1 -maxdepth 1 -type d -name "${K8S_SRC_PACKAGE}-*" | sort | tail -n1)"
    if [[ -n "${src}" && ! -f "${src}/Makefile" ]]; then
        log "removing incomplete source tree ${src}"
        rm -rf "${src}"
        src=""
    fi
    if [[ -z "${src}" ]]; then
        log "apt-get source ${K8S_SRC_PACKAGE}/${K8S_SRC_SUITE} into ${BUILD_ROOT}"
        local apt_src_opts=()
        # As root, apt's download sandbox user (_apt) cannot write into e.g.
        # /root/.cache; download as root instead of printing a warning.
        [[ "$(id -u)" -eq 0 ]] && apt_src_opts=(-o APT::Sandbox::User=root)
        (cd "${BUILD_ROOT}" && apt-get source -qq "${apt_src_opts[@]}" "${K8S_SRC_PACKAGE}/${K8S_SRC_SUITE}" >&2) \
            || die "apt-get source ${K8S_SRC_PACKAGE}/${K8S_SRC_SUITE} failed (is the deb-src entry valid? see /etc/apt/sources.list.d/${DEB_SRC_BASENAME}.*)"
        src="$(find "${BUILD_ROOT}" -mindepth 1 -maxdepth 1 -type d -name "${K8S_SRC_PACKAGE}-*" | sort | tail -n1)"
        [[ -n "${src}" && -f "${src}/Makefile" ]] || die "apt-get source did not unpack a kubernetes tree into ${BUILD_ROOT}"
    else
        log "reusing source tree ${src}"
    fi
    [[ -d "${src}/vendor" ]] || die "${src} has no vendor/ folder; cannot build offline"

    patch_reflect2 "${src}"

    # GOPATH layout of debian/rules.  hack/lib/init.sh exports GO111MODULE=off
    # and builds from the vendor/ folder.
    mkdir -p "${src}/.go/src/k8s.io"
    [[ -L "${src}/.go/src/k8s.io/kubernetes" ]] || ln -s ../../.. "${src}/.go/src/k8s.io/kubernetes"

    local buildlog="${BUILD_ROOT}/build-kube-apiserver.log" start end
    log "building cmd/kube-apiserver (a few minutes on 2 cores; log: ${buildlog})"
    start=$(date +%s)
    if ! (cd "${src}" && env GOPATH="${src}/.go" CGO_ENABLED=0 GOFLAGS= GO111MODULE=off \
            make WHAT=cmd/kube-apiserver) >"${buildlog}" 2>&1; then
        tail -n 40 "${buildlog}" >&2 || true
        die "building kube-apiserver failed; full log: ${buildlog}"
    fi
    end=$(date +%s)
    log "build finished in $((end - start))s"

    local bin=""
    for bin in "${src}/_output/bin/kube-apiserver" "${src}/_output/local/bin/linux/$(go env GOARCH)/kube-apiserver"; do
        [[ -x "${bin}" ]] && break
    done
    [[ -x "${bin}" ]] || die "build succeeded but no kube-apiserver binary under ${src}/_output"
    install -m 0755 "${bin}" "${ASSETS_DIR}/kube-apiserver.tmp"
    mv -f "${ASSETS_DIR}/kube-apiserver.tmp" "${ASSETS_DIR}/kube-apiserver"
    works "${ASSETS_DIR}/kube-apiserver" || die "${ASSETS_DIR}/kube-apiserver does not run"
    log "kube-apiserver: $("${ASSETS_DIR}/kube-apiserver" --version 2>&1 | head -n1)"

    if [[ "${KEEP_BUILD}" == 1 ]]; then
        log "keeping build tree ${BUILD_ROOT} (ASM_ADVISOR_KEEP_BUILD=1)"
    else
        log "removing build tree ${BUILD_ROOT} (set ASM_ADVISOR_KEEP_BUILD=1 to keep it)"
        rm -rf "${BUILD_ROOT}"
    fi
}

log "assets folder: ${ASSETS_DIR}"
# Add the deb-src entry (if kube-apiserver is to be built) before the first
# install, so that a single `apt-get update` serves everything.
if ! works "${ASSETS_DIR}/kube-apiserver"; then
    ensure_deb_src
fi
get_etcd
get_kube_apiserver
has_assets "${ASSETS_DIR}" || die "assets incomplete in ${ASSETS_DIR}"
log "done"
printf '%s\n' "${ASSETS_DIR}"
