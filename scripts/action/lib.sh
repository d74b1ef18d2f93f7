# shellcheck shell=bash
# Helpers the action's step scripts share (sourced, not run).

# Appends `name=value` to the step's outputs. Values are single lines here; a newline would let
# a value forge another output, so it is refused.
set_output() {
  if [[ $2 == *$'\n'* ]]; then
    die "output $1 holds a newline"
  fi
  printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
}

# Escapes a workflow command's message as @actions/core does (% CR LF).
escape_data() {
  local text=${1//'%'/%25}
  text=${text//$'\r'/%0D}
  printf '%s' "${text//$'\n'/%0A}"
}

notice() { printf '::notice title=keysweep::%s\n' "$(escape_data "$*")"; }
warning() { printf '::warning title=keysweep::%s\n' "$(escape_data "$*")"; }

# Fails the step with an error annotation.
die() {
  printf '::error title=keysweep::%s\n' "$(escape_data "$*")"
  exit 1
}

# A field of the event payload (jq path), or nothing when absent or null.
event_field() {
  [[ -n ${GITHUB_EVENT_PATH:-} && -f $GITHUB_EVENT_PATH ]] || return 0
  jq -r "$1 // empty" "$GITHUB_EVENT_PATH"
}

# Fails unless input $1's value $2 is one of the choices that follow.
check_choice() {
  local name=$1 value=$2 choice
  shift 2
  for choice in "$@"; do
    [[ $value == "$choice" ]] && return 0
  done
  die "$name must be one of: $*; not '$value'"
}
