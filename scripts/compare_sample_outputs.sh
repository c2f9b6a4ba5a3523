#!/usr/bin/env bash
# Every .tflite the Samples produce — float32, float16, dynamic and int8 (calibrated on the sample's
# own inputs, with --report and --io int8 variants) — as one line of SHA-256 per file, so a refactor
# can show its outputs are byte-identical:
#   scripts/compare_sample_outputs.sh BIN > before.txt   (old binary)
#   scripts/compare_sample_outputs.sh BIN > after.txt    (new binary);  diff before.txt after.txt
set -euo pipefail
BIN=${1:-.build/debug/keraslite}
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for model in Samples/*.h5 Samples/*.keras; do
    case "$model" in *.weights.h5) continue ;; esac
    name=$(basename "$model")
    stem=${name%.*}
    inputs=""
    for candidate in "Samples/$stem.inputs.npy" "Samples/$stem.inputs.npz" "Samples/${stem%_compiled}.inputs.npy"; do
        [ -e "$candidate" ] && { inputs=$candidate; break; }
    done
    variants=("none" "float16" "dynamic" "float32-batch0")
    [ -n "$inputs" ] && variants+=("int8" "int8-io" "int8-percentile" "prune50")
    for variant in "${variants[@]}"; do
        target="$out/$name.$variant.tflite"
        case "$variant" in
            float32-batch0) args=(--batch 0) ;;
            int8) args=(--quantize int8 --calibration "$inputs") ;;
            int8-io) args=(--quantize int8 --calibration "$inputs" --io int8) ;;
            int8-percentile) args=(--quantize int8 --calibration "$inputs" --calibration-method percentile) ;;
            prune50) args=(--prune 0.5) ;;
            *) args=(--quantize "$variant") ;;
        esac
        if "$BIN" convert "$model" -o "$target" --quiet "${args[@]}" 2>"$out/err"; then
            echo "$name $variant $(sha256sum < "$target" | cut -c1-16)"
        else
            echo "$name $variant error: $(head -c 200 "$out/err" | tr '\n' ' ')"
        fi
    done
done
# What the reports print (text and JSON) for every sample and its float .tflite, and what run prints.
for model in Samples/*.h5 Samples/*.keras "$out"/*.none.tflite "$out"/*.int8.tflite; do
    case "$model" in *.weights.h5) continue ;; esac
    for command in "inspect" "inspect --json" "sparsity" "sparsity --json" "graph"; do
        case "$model:$command" in *.tflite:graph) continue ;; esac
        if "$BIN" $command "$model" >"$out/report" 2>&1; then status=0; else status=$?; fi
        echo "$(basename "$model") $command exit $status $(sed "s|$out/||g" "$out/report" | sha256sum | cut -c1-16)"
    done
done
for model in Samples/bad/*; do
    if "$BIN" inspect "$model" >"$out/report" 2>&1; then status=0; else status=$?; fi
    echo "$(basename "$model") inspect exit $status $(sha256sum < "$out/report" | cut -c1-16)"
done
"$BIN" diff Samples/digits_cnn_k2.h5 Samples/digits_cnn_k3.h5 --json > "$out/report" || true
echo "diff k2 k3 $(sha256sum < "$out/report" | cut -c1-16)"
"$BIN" diff Samples/small_resnet_k2.h5 "$out/small_resnet_k2.h5.int8.tflite" > "$out/report" || true
echo "diff h5 int8 $(sed "s|$out/||g" "$out/report" | sha256sum | cut -c1-16)"
"$BIN" convert Samples/small_resnet_k2.h5 -o "$out/r.tflite" --quantize int8 --calibration Samples/small_resnet_k2.inputs.npy --report --json > "$out/report"
echo "report small_resnet_k2 $(sed "s|$out/||g" "$out/report" | sha256sum | cut -c1-16)"
"$BIN" run "$out/multi_io_k3.h5.int8.tflite" --input Samples/multi_io_k3.inputs.npz -o "$out/y.npz" > /dev/null 2>&1 && echo "run int8 $(sha256sum < "$out/y.npz" | cut -c1-16)" || echo "run int8 failed"
"$BIN" verify Samples/small_resnet_k2.h5 "$out/small_resnet_k2.h5.int8.tflite" --input Samples/small_resnet_k2.inputs.npy --json > "$out/report" || true
echo "verify $(sed "s|$out/||g" "$out/report" | sha256sum | cut -c1-16)"
# The weights-only file with its JSON config.
"$BIN" convert Samples/digits_mlp_k2.weights.h5 --config Samples/digits_mlp_k2.json -o "$out/w.tflite" --quiet
echo "digits_mlp_k2.weights.h5 none $(sha256sum < "$out/w.tflite" | cut -c1-16)"
# What prune writes back as Keras files.
for model in Samples/small_resnet_k2.h5 Samples/small_resnet_k3.keras Samples/digits_cnn_k3_compiled.h5; do
    ext=${model##*.}
    "$BIN" prune "$model" -o "$out/pruned.$ext" --sparsity 0.5 >/dev/null
    if [ "$ext" = keras ]; then  # zip members (their names and bytes), not the zip's timestamps
        digest=$(python3 -c 'import hashlib, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(hashlib.sha256(b"".join(n.encode() + z.read(n) for n in z.namelist())).hexdigest()[:16])' "$out/pruned.$ext")
    else
        digest=$(sha256sum < "$out/pruned.$ext" | cut -c1-16)
    fi
    echo "$(basename "$model") prune-keras $digest"
done
