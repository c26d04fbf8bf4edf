#!/bin/bash
# docs/ci/slurm-array.sh: the mytorch sweep as a Slurm job array, one shard per task; each
# task finds its shard in SLURM_ARRAY_TASK_ID/MIN/COUNT (--shard auto). Submit it, then the
# report once every task has ended:
#   jobid=$(sbatch --parsable slurm-array.sh)
#   sbatch --dependency=afterany:$jobid --wrap "conv1d-check report results-*.jsonl --junit junit.xml"
#SBATCH --job-name=conv1d-check
#SBATCH --array=1-4
#SBATCH --cpus-per-task=4
#SBATCH --time=00:30:00
conv1d-check --config mytorch --impl mytorch/conv.py:Conv1d --shard auto \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" --quiet --allow-empty \
  --output "results-$SLURM_ARRAY_TASK_ID.jsonl"
