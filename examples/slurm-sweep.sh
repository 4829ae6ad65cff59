#!/bin/sh
# A sweep as a Slurm job array: one task per shard, then the merge of the shards.
# Run it from a directory every node sees, with `refreshsim` on the nodes' PATH:
#   RUNS=5000 SHARDS=8 examples/slurm-sweep.sh
# SCENARIO (the file to sweep), RUNS (runs per variant), SHARDS (array tasks) and RESULTS
# (where shards, task logs and the merge go) default to the values below.
set -eu
scenario=${SCENARIO:-scenarios/sweep-batch-surge.toml}
runs=${RUNS:-5000}
shards=${SHARDS:-8}
results=${RESULTS:-results}
mkdir -p "$results"
# --wait: sbatch returns once every task has ended, non-zero if one of them failed.
# --resume: a requeued task continues its shard from its last finished chunk.
sbatch --wait --array="1-$shards" --job-name=refreshsim-sweep \
    --output="$results/slurm-%A_%a.out" \
    --wrap "refreshsim sweep '$scenario' --runs $runs --quiet --resume \
        --shard \${SLURM_ARRAY_TASK_ID}/$shards --out '$results'/shard-\${SLURM_ARRAY_TASK_ID}"
refreshsim merge "$results"/shard-* --out "$results/merged" --quiet
