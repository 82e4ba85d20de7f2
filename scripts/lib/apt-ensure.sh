# Sourced by the setup scripts: `apt_ensure LABEL PACKAGE...` installs the
# Debian packages that are not installed yet (nothing when all are) and sets
# APT_INSTALLED to the ones it installed.
apt_ensure() {
  local label=$1; shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  APT_INSTALLED=("${missing[@]}")
  ((${#missing[@]})) || return 0
  echo "$label: installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
