#!/usr/bin/env bash
# The README's Slurm recipe on a real scheduler: installs Slurm and munge from Debian's packages,
# starts a one-node cluster on this machine (munged, slurmctld, slurmd, configured here in a
# temporary directory), runs examples/slurm-sweep.sh (the script README shows) for a small
# sweep, and checks that the merged shards are byte-identical to the same sweep run unsharded.
# Stops every daemon it started, whatever happens.
#
#   tests/slurm/run.sh              # as root; binary target/release/refreshsim
#   REFRESHSIM_BIN=... RUNS=40 SHARDS=4 tests/slurm/run.sh
#
# Builds nothing (cargo build --release first). Each wait is bounded; on a failure the daemons'
# logs and the tasks' outputs are printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
started=$(date +%s)

bin="${REFRESHSIM_BIN:-target/release/refreshsim}"
runs="${RUNS:-40}"
shards="${SHARDS:-4}"
scenario=scenarios/sweep-batch-surge.toml
sweep_timeout_s="${SLURM_SWEEP_TIMEOUT_S:-600}"

say() { echo "slurm: $*"; }
fail() {
    echo "slurm: FAILED: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "needs root (it installs packages and starts slurmctld/slurmd)"
[ -x "$bin" ] || fail "$bin not found: run cargo build --release first"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# --- Packages (Debian's slurm-wlm and munge) ------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    timeout 900 apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
slurmctld -V

work=$(mktemp -d /tmp/refreshsim-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*.log "$work"/munge/*.log "$work"/results/slurm-*.out; do
            [ -f "$log" ] || continue
            echo "----- $log (last 60 lines)" >&2
            tail -n 60 "$log" >&2
        done
    fi
    # Stop only what this script started, newest first.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the command that follows to succeed.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$what not ready after ${seconds}s"
        sleep 0.2
    done
}

# --- munge ------------------------------------------------------------------------------------
# A munged of its own on a private socket, so that an existing one is left alone.
socket="$work/munge/munge.socket"
mkdir -p "$work/munge" /run/munge
chown munge:munge "$work/munge" /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    (umask 077 && dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none)
    chown munge:munge /etc/munge/munge.key
fi
setpriv --reuid=munge --regid=munge --init-groups munged --foreground --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed" 2>"$work/munged.stderr.log" &
pids+=($!)
wait_for 20 munged munge --socket="$socket" -n

# --- slurm.conf for a one-node cluster on this host -------------------------------------------
host=$(hostname -s)
cpus=$(nproc)
memory_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
mkdir -p "$work/state" "$work/spool" "$work/results"
cat >"$work/slurm.conf" <<EOF
ClusterName=refreshsim-ci
# Loopback addresses: the cluster works whether or not this host's name resolves.
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: processes are tracked through /proc, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=30 State=UP
EOF
export SLURM_CONF="$work/slurm.conf"

# --- the daemons ------------------------------------------------------------------------------
# In the foreground (-D), so that their pids are ours to stop; their logs go to files (printed
# on a failure).
slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.stderr.log" 2>&1 &
pids+=($!)
wait_for 30 slurmctld scontrol ping
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.stderr.log" 2>&1 &
pids+=($!)
node_idle() { sinfo -h -n "$host" -o '%T' | grep -qx idle; }
wait_for 60 "node $host" node_idle
say "cluster up ($host, $cpus CPUs) after $(($(date +%s) - started))s"

# --- the README's recipe ----------------------------------------------------------------------
# The tasks run the release binary from PATH, in a copy of the scenario's directory (as on a
# shared file system: the recipe's relative paths are resolved in the submission directory).
cp -r scenarios "$work/scenarios"
cd "$work"
export PATH="$(dirname "$bin"):$PATH"
sweep_started=$(date +%s)
say "sbatch --array=1-$shards: $scenario, $runs runs per variant"
status=0
RUNS="$runs" SHARDS="$shards" SCENARIO="$scenario" RESULTS=results \
    timeout "$sweep_timeout_s" sh "$repo/examples/slurm-sweep.sh" || status=$?
[ "$status" -ne 124 ] || fail "the recipe did not finish within ${sweep_timeout_s}s"
[ "$status" -eq 0 ] || fail "the recipe failed (exit $status): a task or the merge failed"
say "array + merge took $(($(date +%s) - sweep_started))s"

# Every task ran, on this cluster, and completed.
for k in $(seq "$shards"); do
    [ -f "results/shard-$k/plan.json" ] || fail "task $k wrote no shard"
done
logs=$(ls results/slurm-*.out | wc -l)
[ "$logs" -eq "$shards" ] || fail "$logs task logs, expected $shards"

# --- the same sweep, unsharded: byte for byte ---------------------------------------------------
refreshsim sweep "$scenario" --runs "$runs" --quiet --out single
diff -r single results/merged >/dev/null ||
    { diff -r single results/merged | head -20 >&2 || true; fail "merged shards differ from the unsharded sweep"; }
files=$(find single -type f | wc -l)
say "ok: $shards shards merged = the unsharded sweep ($files files identical); total $(($(date +%s) - started))s"
