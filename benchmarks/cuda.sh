#!/usr/bin/env bash
# The checks to run on a machine with a CUDA GPU, one part or all of them:
#
#   bash benchmarks/cuda.sh LOG_DIR [tests] [adult] [ecg]
#
# tests: the whole suite, where every explainer's device="auto" means CUDA,
#        plus tests/test_cuda.py (skipped elsewhere);
# adult: the Adult benchmark's GAN, AE and CVAE settings (ADULT_SETTINGS)
#        with the explainers on CUDA (benchmarks/results/adult_cuda.json / .md);
# ecg:   ECG5000's default RCGAN and the RCGAN at paper 1's sizes, classifier
#        and explainers on CUDA (ecg5000_cuda.json / .md); the paper-size
#        fit stops after the first epoch past ECG_FIT_SECONDS (default 120).
#
# Each part runs under its own time limit (TESTS_SECONDS, ADULT_SECONDS,
# ECG_SECONDS) so one that hangs leaves the others their turn; logs and
# result files are copied to LOG_DIR. Deprecation warnings of newer
# libraries are shown rather than raised here: the CPU suite raises them.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=${1:?usage: bash benchmarks/cuda.sh LOG_DIR [tests] [adult] [ecg]}
shift
parts=${*:-tests adult ecg}
mkdir -p "$logs"
export PYTHONUNBUFFERED=1

python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU'" || exit 1

for part in $parts; do
  case $part in
    tests)
      # pytest-xdist's workers each hold a CUDA context (about 0.5 GB).
      # -v names each test as it ends, so a run cut by the time limit
      # still says which passed.
      timeout "${TESTS_SECONDS:-170}" python3 -m pytest -v -p no:cacheprovider \
        -n "${TEST_WORKERS:-8}" -W default::DeprecationWarning \
        -W default::FutureWarning >"$logs/tests.log" 2>&1
      ;;
    adult)
      timeout "${ADULT_SECONDS:-150}" python3 benchmarks/adult.py --device cuda \
        --settings "${ADULT_SETTINGS:-mlp,ae,cvae_enc_dec}" >"$logs/adult.log" 2>&1
      cp benchmarks/results/adult_cuda.json benchmarks/results/adult_cuda.md "$logs/"
      ;;
    ecg)
      timeout "${ECG_SECONDS:-320}" python3 benchmarks/ecg5000.py --device cuda \
        --settings gan,gan_paper --fit-seconds "${ECG_FIT_SECONDS:-120}" \
        >"$logs/ecg.log" 2>&1
      cp benchmarks/results/ecg5000_cuda.json benchmarks/results/ecg5000_cuda.md "$logs/"
      ;;
    *) echo "unknown part: $part (tests, adult, ecg)"; exit 2 ;;
  esac
done
