#!/usr/bin/env bash
# rollcall-gate.sh: the one step every CI/CD recipe in examples/ci runs before a rollback.
#
# It brings this machine's rollcall ledger up to date from the git exchange (`rollcall sync --git`),
# asks `rollcall gate REQUEST`, writes gate's JSON verdict to a file for the job's log, and exits with
# gate's decision. It fails closed: whatever goes wrong, the exit is non-zero and the rollback after it
# does not run.
#
# With ROLLCALL_RECORD it runs after the rollback instead (a Helm post-rollback hook, an Argo CD PostSync
# hook): it records that the approved revert ran (`rollcall execute REQUEST --outcome ...`) and publishes
# the record through the exchange, so the request stops opening the gate and the team sees it executed.
#
# Exit status
#   0  the policy lets the revert run now (gate PASSES)
#   1  gate BLOCKS (the unmet requirements are named on stderr; a request not for
#      ROLLCALL_ENVIRONMENT misses `environment`)
#   2  bad configuration: a required variable is missing, the request id is malformed or unknown
#   3  the ledger could not be brought up to date or read: rollcall or git missing, the exchange
#      unreachable, a peer bundle refused by sync, the join failed
#   any other non-zero code: rollcall's own, passed through
# With ROLLCALL_RECORD: 0 the execution is recorded and published; 1 rollcall refused to record it (the
# request already executed, closed or withdrawn, for another environment, the key may not execute, ...);
# 2 bad configuration; 3 the ledger could not be synced or read, or the record was made here but could
# not be published (a hook's home is lost with its pod: nothing is recorded then).
# On failure stderr carries exactly one line, "rollcall-gate: ..."; the output of the commands run
# (rollcall, git) goes to stdout, for the job's log.
#
# Required variables
#   ROLLCALL_REQUEST    the request to gate: its id or a unique prefix of it (4 to 64 hex characters);
#                       or, instead of it,
#   ROLLCALL_CHANGE     the change the rollback undoes, as the requests record it (a commit id, a deploy
#                       id), with ROLLCALL_ENVIRONMENT: `rollcall gate --change ID --env ENV` passes when
#                       a request to revert it there lets it run now (for a tool that knows what it
#                       reverts but not the request)
#   ROLLCALL_EXCHANGE   the git remote (URL or path) the machines exchange their ledgers through;
#                       the same remote `rollcall sync --git` uses on the engineers' machines
#   ROLLCALL_HOME       this machine's rollcall home: keystore and, unless ROLLCALL_LEDGER says
#                       otherwise, the ledger (ledger.db). Persist it (a runner's disk, a volume) to
#                       keep one origin for this machine; an empty one is filled by joining, below.
#
# Optional variables
#   ROLLCALL_LEDGER        the ledger file (default: $ROLLCALL_HOME/ledger.db)
#   ROLLCALL_PASSPHRASE    passphrase of the keys in the keystore (needed to join, and by sync to
#                          cosign what it verified); ROLLCALL_ORIGIN_PASSPHRASE when the origin key's differs.
#                          The script passes them to the rollcall commands that sign and to nothing else.
#   ROLLCALL_ENVIRONMENT   the environment the rollback runs in: the gate blocks (exit 1), and a record
#                          is refused, for a request filed for another one (a request approved for
#                          staging does not open production; `gate --env`, `execute --env`, read from the
#                          signed record); required with ROLLCALL_CHANGE
#   ROLLCALL_COMPONENT     the component the rollback rolls back (a Helm release, an Argo CD
#                          application): the gate blocks, and a record is refused, unless the request
#                          lists it (`gate --component`, `execute --component`; names compared without
#                          case); set, it must not be blank
#   ROLLCALL_TO            the revision the rollback returns to (a commit id, a Helm revision): the gate
#                          blocks unless it is the request's target, `revert.to` (`gate --to`; a commit
#                          id matches its abbreviation of 16+ digits); set, not blank
#   ROLLCALL_EXCHANGE_DIR  the git working copy of the exchange (default: $ROLLCALL_HOME/exchange);
#                          cloned from ROLLCALL_EXCHANGE when absent
#   ROLLCALL_PUBLISH       yes (default): `sync --git` pulls and pushes this machine's own bundle (the
#                          exchange credential must allow push); no: pull only (`sync --git
#                          --pull-only`): nothing is written to the exchange, so a read-only
#                          credential is enough
#   ROLLCALL_JOIN_AS       when there is no ledger yet: join the exchange's ledger as this enrolled
#                          member (a key in the keystore; role executor if the job records execution)
#   ROLLCALL_LEDGER_ID     the team ledger's id, 64 hex characters as `rollcall verify` prints it
#                          (required with ROLLCALL_JOIN_AS): a bundle of any other ledger in the
#                          exchange is not joined, and the gate answers from that ledger only
#                          (`gate --ledger-id`; another ledger's file in ROLLCALL_HOME: exit 3)
#   ROLLCALL_ORIGIN        with ROLLCALL_JOIN_AS: the name of this machine's log, e.g.
#                          ci.example.com/github-run-1234 (no spaces, no '+'); one per machine
#   ROLLCALL_KEY_FILE      with ROLLCALL_JOIN_AS: a key file (as `rollcall key new` writes it, from
#                          a CI secret) installed as $ROLLCALL_HOME/keys/$ROLLCALL_JOIN_AS.key if absent
#   ROLLCALL_GATE_JSON     where gate's JSON verdict is written (default: ./rollcall-gate.json);
#                          removed first, so a stale verdict never survives a failed run
#   ROLLCALL_BIN           the rollcall binary (default: rollcall on PATH)
#   ROLLCALL_NOW           must not be set (exit 2): the gate answers for the real time only
#   ROLLCALL_RECORD        succeeded or failed: record that the approved revert of ROLLCALL_REQUEST ran,
#                          with that outcome, instead of gating (needs ROLLCALL_PUBLISH=yes: a record
#                          kept in a hook pod's home is lost with the pod); unset: gate. failed
#                          leaves the request open to another run (and to the gate), as a failed
#                          `rollcall execute` does
#   ROLLCALL_OUTPUT_FILE   with ROLLCALL_RECORD: the rollback's captured output; its SHA-256 is recorded
#   ROLLCALL_NO_REQUEST    block (default): neither ROLLCALL_REQUEST nor ROLLCALL_CHANGE is an error
#                          (exit 2); pass: exit 0
#                          without gating, for a hook that also runs on syncs that are not rollbacks
#                          (an Argo CD PreSync hook); `rollcall reconcile` still reports a rollback
#                          that ran without a request
set -euo pipefail
set -o errtrace # the ERR trap below also fires inside functions

me=rollcall-gate
errlog=""

# Credentials a URL carries (`https://user:TOKEN@host/…`) replaced by `***` in what this script prints: the
# exchange's URL, and git's errors about it, reach the job's log, which outlives the job.
redact() {
    sed -E 's#(://)[^/@[:space:]]*@#\1***@#g'
}

# Refuses (exit 2) a value of variable $1 that rollcall would not take as $3: blank, with control
# characters, starting with '-' (an option), or longer than 300 characters.
check_value() {
    if [[ -z ${2//[[:space:]]/} ]] || [[ $2 =~ [[:cntrl:]] ]] || [[ $2 == -* ]] || [ "${#2}" -gt 300 ]; then
        die 2 "$1 $(printf '%q' "$2") is not $3 (1 to 300 characters, no control characters, not starting with '-')"
    fi
}

die() {
    local code=$1
    shift
    # One line, whatever the message holds.
    printf '%s: %s\n' "$me" "$(printf '%s' "$*" | tr '\n\r\t' '   ' | redact)" >&2
    exit "$code"
}

cleanup() {
    if [ -n "$errlog" ]; then rm -f -- "$errlog"; fi
}
trap cleanup EXIT
# Anything unforeseen is an error (3), never a 1 that could read as a verdict.
trap 'die 3 "internal error at line $LINENO; not gating"' ERR

# The last non-empty line a failed command wrote on stderr (its one-line error, or git's last word).
last_error() {
    grep -v '^[[:space:]]*$' -- "$errlog" | tail -n 1 || true
}

# Runs a command with its stdout and stderr in the job's log (stdout), keeping stderr for the error
# line. Returns the command's exit code.
run() {
    local rc=0
    : >"$errlog"
    "$@" 2>"$errlog" || rc=$?
    redact <"$errlog"
    return "$rc"
}

need() {
    local name=$1
    if [ -z "${!name:-}" ]; then
        die 2 "$name is not set; $2"
    fi
}

# The passphrases reach only the rollcall commands that sign (join, sync, execute): kept in shell
# variables, out of the environment of everything else this script starts (git, its remote helpers,
# credential helpers and the commands a persisted working copy's config names; the read-only gate).
# (Plain variables, not an associative array: bash 3.2, macOS's, runs this script too.)
pass_set=${ROLLCALL_PASSPHRASE+set} pass=${ROLLCALL_PASSPHRASE-}
origin_pass_set=${ROLLCALL_ORIGIN_PASSPHRASE+set} origin_pass=${ROLLCALL_ORIGIN_PASSPHRASE-}
unset ROLLCALL_PASSPHRASE ROLLCALL_ORIGIN_PASSPHRASE
# Runs "$@" with the passphrases this script was given (exported in a subshell: never in an argv).
signing() {
    (
        if [ -n "$pass_set" ]; then export ROLLCALL_PASSPHRASE="$pass"; fi
        if [ -n "$origin_pass_set" ]; then export ROLLCALL_ORIGIN_PASSPHRASE="$origin_pass"; fi
        exec "$@"
    )
}

# Whatever happens next, no verdict from an earlier run is left to be read as this one's.
verdict=${ROLLCALL_GATE_JSON:-$PWD/rollcall-gate.json}
rm -f -- "$verdict" || die 3 "cannot remove the old verdict file $verdict"

# Checked first: a misspelt mode must not pass as "no request" below.
record=${ROLLCALL_RECORD:-}
case $record in
"" | succeeded | failed) ;;
*) die 2 "ROLLCALL_RECORD must be succeeded or failed, not $(printf '%q' "$record")" ;;
esac
case ${ROLLCALL_NO_REQUEST:-block} in
block) ;;
pass)
    if [ -z "${ROLLCALL_REQUEST:-}" ] && [ -z "${ROLLCALL_CHANGE:-}" ]; then
        printf '%s: no request named and ROLLCALL_NO_REQUEST=pass: this run is not a rollback, not %s\n' "$me" \
            "$([ -n "$record" ] && echo recorded || echo gated)"
        exit 0
    fi
    ;;
*) die 2 "ROLLCALL_NO_REQUEST must be block or pass, not $(printf '%q' "$ROLLCALL_NO_REQUEST")" ;;
esac
if [ -n "$record" ] && [ -n "${ROLLCALL_CHANGE:-}" ]; then
    die 2 "ROLLCALL_RECORD records the run of one request: set ROLLCALL_REQUEST, not ROLLCALL_CHANGE"
fi
if [ -n "${ROLLCALL_REQUEST:-}" ] && [ -n "${ROLLCALL_CHANGE:-}" ]; then
    die 2 "set ROLLCALL_REQUEST or ROLLCALL_CHANGE, not both"
fi
if [ -z "${ROLLCALL_CHANGE:-}" ]; then
    need ROLLCALL_REQUEST "set it to the id (or a unique prefix) of the rollback request to gate, or set ROLLCALL_CHANGE"
fi
need ROLLCALL_EXCHANGE "set it to the git remote the ledgers are exchanged through"
need ROLLCALL_HOME "set it to this machine's rollcall home (keystore and ledger)"
# A gate answers for the real time only: ROLLCALL_NOW (a what-if clock) would count an expired approval
# again or step around a freeze, and a pipeline variable can set it.
if [ -n "${ROLLCALL_NOW:-}" ]; then
    die 2 "ROLLCALL_NOW is set; the gate answers for the real time only (unset it)"
fi

if [ -n "${ROLLCALL_CHANGE:-}" ]; then
    change=$ROLLCALL_CHANGE
    need ROLLCALL_ENVIRONMENT "set it to the environment the rollback runs in (required with ROLLCALL_CHANGE)"
    # Whatever the locale: no spaces or control characters, not an option, at most 200 characters.
    if [[ $change =~ [[:space:][:cntrl:]] ]] || [[ $change == -* ]] || [ "${#change}" -gt 200 ]; then
        die 2 "ROLLCALL_CHANGE $(printf '%q' "$change") is not a change id (up to 200 characters, no spaces or control characters, not starting with '-')"
    fi
    request=""
    gate_args=("--change=$change" "--env=$ROLLCALL_ENVIRONMENT")
    what="change $change in $ROLLCALL_ENVIRONMENT"
else
    request=$ROLLCALL_REQUEST
    if ! [[ $request =~ ^[0-9a-fA-F]{4,64}$ ]]; then
        die 2 "ROLLCALL_REQUEST $(printf '%q' "$request") is not a request id (4 to 64 hex characters)"
    fi
    gate_args=("$request")
    what="request $request"
    # Where the job rolls back: the gate blocks a request filed for another environment (checklist item
    # `environment`, read from the signed record, never from the request index), and `execute` refuses to
    # record its run.
    if [ -n "${ROLLCALL_ENVIRONMENT:-}" ]; then
        check_value ROLLCALL_ENVIRONMENT "$ROLLCALL_ENVIRONMENT" "an environment name"
        gate_args+=("--env=$ROLLCALL_ENVIRONMENT")
    fi
fi
# Set but blank (a template that rendered to nothing) is a mistake, not "no check".
if [ -n "${ROLLCALL_COMPONENT+set}" ]; then
    check_value ROLLCALL_COMPONENT "$ROLLCALL_COMPONENT" "a component name"
    gate_args+=("--component=$ROLLCALL_COMPONENT")
fi
if [ -n "${ROLLCALL_TO+set}" ]; then
    check_value ROLLCALL_TO "$ROLLCALL_TO" "a revision"
    gate_args+=("--to=$ROLLCALL_TO")
fi
# The team ledger's id: joining needs it, and, given, the gate answers from that ledger only (a ledger file
# swapped into a persisted home, one of someone's own making with every role theirs, is refused).
if [ -n "${ROLLCALL_LEDGER_ID:-}" ]; then
    [[ $ROLLCALL_LEDGER_ID =~ ^[0-9a-fA-F]{64}$ ]] ||
        die 2 "ROLLCALL_LEDGER_ID $(printf '%q' "$ROLLCALL_LEDGER_ID") is not a ledger id (64 hex characters)"
    gate_args+=("--ledger-id=$ROLLCALL_LEDGER_ID")
fi
exchange=$ROLLCALL_EXCHANGE
case $exchange in
-*) die 2 "ROLLCALL_EXCHANGE must not start with '-'" ;;
esac
publish=${ROLLCALL_PUBLISH:-yes}
case $publish in
yes | no) ;;
*) die 2 "ROLLCALL_PUBLISH must be yes or no, not $(printf '%q' "$publish")" ;;
esac
if [ -n "$record" ] && [ "$publish" = no ]; then
    die 2 "ROLLCALL_RECORD needs ROLLCALL_PUBLISH=yes: a record that is not published is lost with this home"
fi
if [ -n "$record" ] && [ -n "${ROLLCALL_OUTPUT_FILE:-}" ] && [ ! -r "$ROLLCALL_OUTPUT_FILE" ]; then
    die 2 "ROLLCALL_OUTPUT_FILE $ROLLCALL_OUTPUT_FILE cannot be read"
fi
bin=${ROLLCALL_BIN:-rollcall}
ledger=${ROLLCALL_LEDGER:-$ROLLCALL_HOME/ledger.db}
workdir=${ROLLCALL_EXCHANGE_DIR:-$ROLLCALL_HOME/exchange}
export ROLLCALL_HOME ROLLCALL_LEDGER="$ledger"

command -v "$bin" >/dev/null 2>&1 || die 3 "the rollcall binary ($bin) is not installed or not on PATH"
command -v git >/dev/null 2>&1 || die 3 "git is not installed; it is needed to sync the ledger"
mkdir -p -- "$ROLLCALL_HOME" || die 3 "cannot create ROLLCALL_HOME $ROLLCALL_HOME"
errlog=$(mktemp "${TMPDIR:-/tmp}/rollcall-gate.XXXXXX") || die 3 "cannot create a temporary file"
# Nothing below may stop to ask: no terminal prompt from rollcall or git.
exec </dev/null
export GIT_TERMINAL_PROMPT=0

# 1. The working copy of the exchange.
if [ -e "$workdir/.git" ]; then
    url=$(git -C "$workdir" remote get-url origin 2>/dev/null) || die 3 "$workdir has no git remote 'origin'"
    if [ "$url" != "$exchange" ]; then
        die 2 "$workdir is a working copy of $url, not of ROLLCALL_EXCHANGE $exchange"
    fi
    if [ "$publish" = no ]; then
        # Nothing of this machine's is kept in the working copy (sync writes its bundle again): take
        # the remote branch as it is. No branch name reaches the command line.
        run git -C "$workdir" fetch --quiet origin ||
            die 3 "cannot fetch the exchange $exchange: $(last_error)"
        run git -C "$workdir" reset --quiet --hard '@{upstream}' ||
            die 3 "cannot update the working copy $workdir: $(last_error)"
    fi
elif [ -e "$workdir" ] && [ -n "$(ls -A -- "$workdir")" ]; then
    die 2 "$workdir exists and is not a git working copy; set ROLLCALL_EXCHANGE_DIR elsewhere"
else
    run git clone --quiet -- "$exchange" "$workdir" ||
        die 3 "cannot clone the exchange $exchange: $(last_error)"
fi

# git commits (sync's, rebasing pulls) need an identity; a bare CI image has none.
if [ -z "$(git -C "$workdir" config user.email 2>/dev/null || true)" ]; then
    export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-rollcall-gate} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-rollcall-gate@localhost}
    export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-rollcall-gate}
    export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-rollcall-gate@localhost}
fi

# 2. A ledger: the one this home holds, or a new origin joined from a peer bundle in the exchange.
if [ ! -e "$ledger" ]; then
    if [ -z "${ROLLCALL_JOIN_AS:-}" ] || [ -z "${ROLLCALL_ORIGIN:-}" ]; then
        die 2 "no ledger at $ledger; point ROLLCALL_HOME at an existing one, or set ROLLCALL_JOIN_AS and ROLLCALL_ORIGIN to join the exchange's ledger"
    fi
    [ -n "$pass" ] ||
        die 2 "ROLLCALL_PASSPHRASE is not set; joining unlocks the key of $ROLLCALL_JOIN_AS"
    # Whoever can push to the exchange (or point ROLLCALL_EXCHANGE elsewhere) could otherwise offer a
    # ledger of their own making, with this key enrolled by an admin they invented.
    need ROLLCALL_LEDGER_ID "set it to the id of the team's ledger (as \`rollcall verify\` prints it), so the job joins that ledger and no other"
    key="$ROLLCALL_HOME/keys/$ROLLCALL_JOIN_AS.key"
    if [ ! -e "$key" ]; then
        if [ -z "${ROLLCALL_KEY_FILE:-}" ]; then
            die 2 "no key $key; set ROLLCALL_KEY_FILE to $ROLLCALL_JOIN_AS's key file"
        fi
        [ -r "$ROLLCALL_KEY_FILE" ] || die 2 "ROLLCALL_KEY_FILE $ROLLCALL_KEY_FILE cannot be read"
        # Copied beside it, then renamed: an interrupted copy leaves no truncated key that a later run
        # would take for the real one.
        (umask 077 && mkdir -p -- "$ROLLCALL_HOME/keys" && cp -- "$ROLLCALL_KEY_FILE" "$key.partial" &&
            chmod 600 -- "$key.partial" && mv -f -- "$key.partial" "$key") ||
            die 3 "cannot install the key file as $key"
    fi
    joined=""
    why="the exchange holds no bundle (*.rollcall) to join from"
    shopt -s nullglob
    for bundle in "$workdir"/*.rollcall; do
        if run signing "$bin" init --join "$bundle" --as "$ROLLCALL_JOIN_AS" --origin "$ROLLCALL_ORIGIN" \
            --ledger-id "$ROLLCALL_LEDGER_ID"; then
            joined=$bundle
            break
        fi
        why="$(basename -- "$bundle"): $(last_error)"
    done
    shopt -u nullglob
    [ -n "$joined" ] || die 3 "cannot join the exchange's ledger as $ROLLCALL_JOIN_AS: $why"
fi

# 3. Sync: import every peer's bundle (each verified; a refused one fails the run), and with
# ROLLCALL_PUBLISH=yes push this machine's own; with no, the working copy stays as fetched above.
sync=(signing "$bin" sync --git "$workdir")
if [ "$publish" = no ]; then sync+=(--offline --pull-only); fi
# A record publishes only once it is made (4' below): a refused one leaves nothing in the exchange.
first=("${sync[@]}")
if [ -n "$record" ]; then first+=(--pull-only); fi
rc=0
run "${first[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
    die 3 "cannot sync the ledger from $exchange (rollcall sync exited $rc): $(last_error)"
fi

# 4'. After the rollback: record its run (the approved revert operation, in the request's environment) and
# publish the record; no gate.
if [ -n "$record" ]; then
    execute=(signing "$bin" execute "$request" --outcome "$record"
        --notes "recorded by rollcall-gate.sh after the rollback (ROLLCALL_RECORD=$record)")
    if [ -n "${ROLLCALL_JOIN_AS:-}" ]; then execute+=(--as "$ROLLCALL_JOIN_AS"); fi
    if [ -n "${ROLLCALL_OUTPUT_FILE:-}" ]; then execute+=("--output-file=$ROLLCALL_OUTPUT_FILE"); fi
    # Where it ran: rollcall refuses a request for another environment.
    if [ -n "${ROLLCALL_ENVIRONMENT:-}" ]; then execute+=("--env=$ROLLCALL_ENVIRONMENT"); fi
    if [ -n "${ROLLCALL_COMPONENT+set}" ]; then execute+=("--component=$ROLLCALL_COMPONENT"); fi
    rc=0
    run "${execute[@]}" || rc=$?
    said=$(last_error)
    if [ "$rc" -eq 1 ] && [[ $said != *"refused: "* ]]; then
        # rollcall exits 1 as well when it fails (a damaged ledger, a wrong passphrase): not a refusal.
        rc=3
    fi
    case $rc in
    0) ;;
    1) die 1 "NOT RECORDED: $what: $(last_error)" ;;
    2) die 2 "cannot record the run of $what: $(last_error)" ;;
    *) die 3 "cannot record the run of $what (rollcall execute exited $rc): $(last_error)" ;;
    esac
    rc=0
    run "${sync[@]}" || rc=$?
    if [ "$rc" -ne 0 ]; then
        die 3 "the run of $what is recorded in $ledger but not published to $exchange (rollcall sync exited $rc; a home that persists publishes it at its next sync; one that does not loses it: record the run again from a machine that can publish): $(last_error)"
    fi
    printf '%s: %s: run recorded (%s) and published to %s\n' "$me" "$what" "$record" "$exchange" | redact
    exit 0
fi

# 4. The gate. The JSON evaluation decides; the text form goes to the log.
rc=0
"$bin" --json gate "${gate_args[@]}" >"$verdict" 2>"$errlog" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    cat -- "$errlog"
    rm -f -- "$verdict"
    die "$rc" "rollcall gate for $what failed (exit $rc): $(last_error)"
fi
# Exit 1 is a verdict only with one: rollcall also exits 1 when it fails (a damaged ledger, a full disk).
if [ "$rc" -eq 1 ] && ! grep -Eq '"gate": *false' "$verdict"; then
    cat -- "$errlog"
    rm -f -- "$verdict"
    die 3 "rollcall gate for $what gave no verdict (exit 1): $(last_error)"
fi
text_rc=0
text=$("$bin" gate "${gate_args[@]}" 2>&1) || text_rc=$?
printf '%s\n' "$text"
if [ "$text_rc" -ne "$rc" ]; then
    rm -f -- "$verdict"
    die 3 "gate gave two verdicts ($rc, then $text_rc) for $what; not gating"
fi
if [ "$rc" -eq 0 ]; then
    printf '%s: %s: gate PASSES; verdict in %s\n' "$me" "$what" "$verdict"
    exit 0
fi
# Unmet requirements, as gate's checklist prints them: "  [ ] approvals       0 of 1 approvals ...".
missing=$(sed -n 's/^ *\[ \] *\([^ ]*\) *\(.*\)$/\1 (\2)/p' <<<"$text" | paste -sd ';' - | sed 's/;/; /g')
die 1 "BLOCKED: $what: gate blocks; missing: ${missing:-see $verdict}"
