#!/usr/bin/env bash
# Package check, the way a new user meets NigGen:
#   1. dotnet pack NigGen.Runtime: one NigGen package (runtime in lib/net10.0, generator in analyzers/dotnet/cs), under
#      a unique prerelease version so that a stale copy in the NuGet cache is never used;
#   2. a fresh `dotnet new console` project outside the repository adds NigGen from that local folder (NuGet.Config adds
#      the folder beside the machine's usual sources), declares a network, builds with warnings as errors and runs;
#   3. the same project published with Native AOT, trim/AOT warnings as errors, and the native binary run;
#   4. NigGen.Sample published with Native AOT (warnings as errors), and its native binary run on the scoring path:
#      train a small model, simulate a FASTA file, score it (from a file and from stdin) and check the JSON lines, and
#      check that a bad record is an error naming it; then its serve command on a loopback port answers an infer request
#      (and a bad one with the protocol's error object) and stops cleanly on SIGTERM.
#   5. the NigGen.Gpu package: a fresh project referencing it alone gets the generator and ToGpu, builds with warnings
#      as errors, and runs a network on ILGPU's CPU accelerator against the CPU path.
# About 2 minutes on 2 cores once the NuGet cache is warm.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

case "$(uname -m)" in
  x86_64)  rid=linux-x64;   isa=(-p:IlcInstructionSet=x86-64-v3) ;;
  aarch64) rid=linux-arm64; isa=() ;;
  *) echo "package-check: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
# Binaries built for x86-64-v3 need AVX2 and FMA to start.
can_run_native=1
if [[ $rid == linux-x64 ]] && ! grep -qw avx2 /proc/cpuinfo; then can_run_native=0; fi

version="0.1.0-ci.$(date +%Y%m%d%H%M%S).$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/niggen-package-check.XXXXXX")
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}/niggen/$version"
gpu_cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}/niggen.gpu/$version"
cleanup() { rm -rf "$work" "$cache" "$gpu_cache"; rmdir "$(dirname "$cache")" "$(dirname "$gpu_cache")" 2>/dev/null || true; }
trap cleanup EXIT
step() { printf '\n== package-check: %s (%ds)\n' "$1" "$SECONDS"; }

step "pack NigGen $version"
dotnet pack NigGen.Runtime -c Release -o "$work/packages" -p:Version="$version" --nologo -v q
nupkg="$work/packages/NigGen.$version.nupkg"
layout=$(unzip -Z1 "$nupkg")
for f in lib/net10.0/NigGen.Runtime.dll lib/net10.0/NigGen.Runtime.xml analyzers/dotnet/cs/NigGen.Generator.dll README.md; do
  grep -qx "$f" <<<"$layout" || { echo "package-check: $f missing from the package" >&2; echo "$layout" >&2; exit 1; }
done
nuspec=$(unzip -p "$nupkg" NigGen.nuspec)
grep -q 'id="System.Numerics.Tensors"' <<<"$nuspec" || { echo "package-check: System.Numerics.Tensors is not a dependency" >&2; exit 1; }
if grep -qi 'CodeAnalysis\|NigGen.Generator\|PolySharp' <<<"$nuspec"; then
  echo "package-check: the package depends on a build-only package:" >&2; echo "$nuspec" >&2; exit 1
fi

step "fresh console project"
app="$work/app"
mkdir -p "$app"
cd "$app"
dotnet new console -n PackageCheckApp -o . --force >/dev/null
cat > NuGet.Config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="niggen-local" value="$work/packages" />
  </packageSources>
</configuration>
XML
dotnet add package NigGen --version "$version" >/dev/null
cat > Program.cs <<'CS'
using System;
using NigGen;

// A user's first program: declare a network, create it, train it a little, predict, score its neurons.
var net = MotifNet.CreateRandom(seed: 7);
var input = new float[MotifNet.InputLength];
var rng = new Random(3);
for (int i = 0; i < input.Length; i++) input[i] = (float)rng.NextDouble();
var baseline = new float[MotifNet.InputLength];

// In-process training: 30 Adam steps on 16 random samples of two classes must lower the loss.
var trainer = net.CreateTrainer(new NigGen.Training.TrainingOptions { LearningRate = 0.01f });
var batch = new float[16 * MotifNet.InputLength];
var labels = new float[16 * MotifNet.OutputLength];
for (int i = 0; i < batch.Length; i++) batch[i] = (float)rng.NextDouble();
for (int s = 0; s < 16; s++) labels[s * MotifNet.OutputLength + s % 2] = 1f;
float firstLoss = trainer.Step(batch, labels), lastLoss = firstLoss;
for (int step = 1; step < 30; step++) lastLoss = trainer.Step(batch, labels);
if (!(lastLoss < firstLoss))
{
    Console.Error.WriteLine($"FAIL: training did not lower the loss ({firstLoss} → {lastLoss})");
    return 1;
}

var logits = new float[MotifNet.OutputLength];
net.Forward(input, logits);

// The trained weights saved and loaded back give the same predictions, bit for bit.
var saved = new System.IO.MemoryStream();
net.Save(saved);
saved.Position = 0;
var reloaded = new float[MotifNet.OutputLength];
MotifNet.Load(saved).Forward(input, reloaded);
if (!logits.AsSpan().SequenceEqual(reloaded))
{
    Console.Error.WriteLine("FAIL: the saved and loaded network predicts differently");
    return 1;
}
var baselineLogits = new float[MotifNet.OutputLength];
net.Forward(baseline, baselineLogits);
int target = logits[1] > logits[0] ? 1 : 0;

var importance = new float[MotifNet.ImportanceLength];
float delta = net.NeuronIntegratedGradients(input, baseline, target, importance,
    new AttributionOptions { Steps = 200, Rule = IntegrationRule.RiemannTrapezoid });

float difference = logits[target] - baselineLogits[target];
double fc1 = 0;
for (int j = 0; j < MotifNet.Fc1ImportanceLength; j++) fc1 += importance[MotifNet.Fc1ImportanceOffset + j];
float tolerance = 0.05f * Math.Abs(difference) + 1e-4f; // 200 trapezoid steps through ReLU kinks: delta is a few 1e-3 of F(x) - F(x')
if (!float.IsFinite(delta) || Math.Abs(delta) > tolerance || Math.Abs(fc1 - difference) > tolerance)
{
    Console.Error.WriteLine($"FAIL: delta {delta}, fc1 sum {fc1}, F(x) - F(x') {difference}");
    return 1;
}
Console.WriteLine($"NigGen package OK: {MotifNet.Description.Name}, trained loss {firstLoss:F4} → {lastLoss:F4}, target {target}, F(x) - F(x') = {difference:F6}, " +
                  $"delta = {delta:E2}, top fc1 neuron {MotifNet.Description.DescribeNeuron(MotifNet.Fc1ImportanceOffset + ArgMax(importance, MotifNet.Fc1ImportanceOffset, MotifNet.Fc1ImportanceLength))}");
return 0;

static int ArgMax(float[] values, int offset, int length)
{
    int best = 0;
    for (int j = 1; j < length; j++) if (values[offset + j] > values[offset + best]) best = j;
    return best;
}

[Network]
[Input(4, 32)]
public sealed partial class MotifNet
{
    [Conv(8, Kernel = 5, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)]                                                        Layer pool1;
    [Flatten]                                                           Layer flat;
    [Dense(16, Activation = Activation.Relu), AttributeLayer]           Layer fc1;
    [Dense(2)]                                                          Layer fc2;
}
CS

step "build (warnings as errors) and run"
dotnet build -c Release -p:TreatWarningsAsErrors=true --nologo -v q
dotnet run -c Release --no-build

step "a declaration with one mistake gives one diagnostic (the package's suppressor quiets the Layer fields)"
broken="$work/broken"
mkdir -p "$broken"
cp "$app/PackageCheckApp.csproj" "$app/NuGet.Config" "$broken/"
cat > "$broken/Program.cs" <<'CS'
using NigGen;

System.Console.WriteLine("never built");

[Network]
[Input(4, 32)]
public sealed partial class MotifNet
{
    [Conv(8, Kernel = 5, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)]                                                        Layer pool1;
    [Dense(16, Activation = Activation.Relu), AttributeLayer]           Layer fc1;
    [Dense(2)]                                                          Layer fc2;
}
CS
if (cd "$broken" && dotnet build -c Release --nologo -v q > "$work/broken.txt" 2>&1); then
  echo "package-check: a network with a Dense layer after a (8, 14) output built" >&2; exit 1
fi
# The mistake is NIG0011 and nothing else is reported: no CS0169/CS8618 for the four Layer fields. (The build prints
# each diagnostic again in its summary: distinct diagnostics are counted, by location and message.)
diagnostics=$(grep -E ': (error|warning) [A-Z]+[0-9]+' "$work/broken.txt" | sort -u | grep -oE '(error|warning) [A-Z]+[0-9]+' | uniq -c | sed 's/^ *//')
if [[ "$diagnostics" != "1 error NIG0011" ]]; then
  echo "package-check: expected one diagnostic, NIG0011; got:" >&2; cat "$work/broken.txt" >&2; exit 1
fi

step "Native AOT publish ($rid, trim/AOT warnings as errors)"
dotnet publish -c Release -r "$rid" -p:PublishAot=true "${isa[@]}" -p:TreatWarningsAsErrors=true -o "$work/app-native" --nologo -v q
[[ ! -e "$work/app-native/PackageCheckApp.dll" ]] || { echo "package-check: publish gave IL, not a native binary" >&2; exit 1; }
if (( can_run_native )); then "$work/app-native/PackageCheckApp"; else echo "(no AVX2 here: native binary not run)"; fi

step "NigGen.Sample Native AOT publish ($rid, trim/AOT warnings as errors)"
cd "$repo"
dotnet publish NigGen.Sample -c Release -r "$rid" -p:TreatWarningsAsErrors=true -o "$work/sample-native" --nologo -v q
[[ ! -e "$work/sample-native/NigGen.Sample.dll" ]] || { echo "package-check: publish gave IL, not a native binary" >&2; exit 1; }
if (( can_run_native )); then
  sample="$work/sample-native/NigGen.Sample"
  "$sample" train --train-size 4000 --epochs 3 --weights "$work/sample.safetensors"
  "$sample" simulate --count 300 --fasta "$work/sample.fa"
  "$sample" score "$work/sample.fa" --weights "$work/sample.safetensors" --task all --top 3 > "$work/sample.jsonl"
  python3 - "$work/sample.jsonl" <<'PY'
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 300, f'{len(lines)} JSON lines for 300 records'
for i, line in enumerate(lines):
    record = json.loads(line)
    assert record['id'] == f'test-{i}', record['id']
    assert set(record['probabilities']) == {'both', 'gata', 'tal1'}
    assert all(0 <= p <= 1 for p in record['probabilities'].values())
    assert [e['task'] for e in record['explanations']] == ['both', 'gata', 'tal1']
    for e in record['explanations']:
        assert math.isfinite(e['delta'])
        assert [l['layer'] for l in e['layers']] == ['conv1', 'fc1']
        assert all(len(l['top']) == 3 for l in e['layers'])
print(f'package-check: native score wrote {len(lines)} valid JSON lines')
PY
  head -n 10 "$work/sample.fa" | "$sample" score - --weights "$work/sample.safetensors" > "$work/stdin.jsonl"
  [[ $(wc -l < "$work/stdin.jsonl") == 2 ]] || { echo "package-check: score from stdin did not write 2 lines" >&2; exit 1; }
  if printf '>broken\nACGU\n' | "$sample" score - --weights "$work/sample.safetensors" 2> "$work/bad.txt"; then
    echo "package-check: an invalid record was scored" >&2; exit 1
  fi
  grep -q "record 'broken', line 2" "$work/bad.txt" || { echo "package-check: unexpected error for an invalid record:" >&2; cat "$work/bad.txt" >&2; exit 1; }

  # serve: the native server on a free loopback port answers the Open Inference Protocol (health, metadata, an infer
  # request with importance and delta, a bad request), then stops gracefully on SIGTERM with exit code 0.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  "$sample" serve --weights "$work/sample.safetensors" --urls "http://127.0.0.1:$port" --log-level warning > "$work/serve.log" 2>&1 &
  serve_pid=$!
  python3 - "$port" "$work/sample.fa" <<'PY' || { kill -TERM "$serve_pid" 2>/dev/null; echo "package-check: serve log:" >&2; cat "$work/serve.log" >&2; exit 1; }
import json, math, sys, time, urllib.error, urllib.request
base = f'http://127.0.0.1:{sys.argv[1]}'
def call(path, body=None):
    request = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(), method='GET' if body is None else 'POST')
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
for attempt in range(300):
    try:
        if call('/v2/health/ready') == (200, {'ready': True}): break
    except (urllib.error.URLError, ConnectionError): pass
    time.sleep(0.1)
else:
    sys.exit('package-check: serve did not become ready in 30 s')
status, metadata = call('/v2/models/RegulatoryNet')
assert status == 200 and metadata['inputs'][0] == {'name': 'input', 'datatype': 'FP32', 'shape': [-1, 4, 200]}, metadata
sequence = open(sys.argv[2]).read().split('>')[1].split('\n', 1)[1].replace('\n', '')
one_hot = [[1.0 if base == b else 0.0 for base in sequence] for b in 'ACGT']
status, answer = call('/v2/models/RegulatoryNet/infer', {'id': 'ci', 'inputs': [{'name': 'input', 'shape': [1, 4, 200], 'datatype': 'FP32', 'data': one_hot}],
                                                         'outputs': [{'name': 'output'}, {'name': 'importance'}, {'name': 'delta'}]})
assert status == 200 and answer['id'] == 'ci', answer
outputs = {o['name']: o for o in answer['outputs']}
assert outputs['output']['shape'] == [1, 3] and outputs['importance']['shape'] == [1, 6432] and len(outputs['importance']['data']) == 6432, answer['outputs'][0]
assert all(math.isfinite(v) for v in outputs['importance']['data']) and math.isfinite(outputs['delta']['data'][0])
probability = 1 / (1 + math.exp(-max(outputs['output']['data'])))
status, error = call('/v2/models/RegulatoryNet/infer', {'inputs': [{'name': 'input', 'shape': [1, 4, 100], 'datatype': 'FP32', 'data': [0] * 400}]})
assert status == 400 and error == {'error': "input: shape [1, 4, 100] does not match [n, 4, 200] (RegulatoryNet's input is [4, 200] per sample)."}, error
print(f'package-check: native serve answered on port {sys.argv[1]}: top probability {probability:.3f}, delta {outputs["delta"]["data"][0]:.2e}')
PY
  kill -TERM "$serve_pid"
  wait "$serve_pid" || { echo "package-check: serve did not exit cleanly on SIGTERM" >&2; cat "$work/serve.log" >&2; exit 1; }
else
  echo "(no AVX2 here: native binary not run)"
fi

step "pack NigGen.Gpu $version"
cd "$repo"
dotnet pack NigGen.Runtime.Gpu -c Release -o "$work/packages" -p:Version="$version" --nologo -v q
gpu_nupkg="$work/packages/NigGen.Gpu.$version.nupkg"
gpu_layout=$(unzip -Z1 "$gpu_nupkg")
for f in lib/net10.0/NigGen.Runtime.Gpu.dll lib/net10.0/NigGen.Runtime.Gpu.xml README.md; do
  grep -qx "$f" <<<"$gpu_layout" || { echo "package-check: $f missing from NigGen.Gpu" >&2; echo "$gpu_layout" >&2; exit 1; }
done
gpu_nuspec=$(unzip -p "$gpu_nupkg" NigGen.Gpu.nuspec)
grep -q "id=\"NigGen\" version=\"$version\"" <<<"$gpu_nuspec" || { echo "package-check: NigGen.Gpu does not depend on NigGen $version" >&2; echo "$gpu_nuspec" >&2; exit 1; }
grep -q 'id="ILGPU" version="1.5.3"' <<<"$gpu_nuspec" || { echo "package-check: NigGen.Gpu does not depend on ILGPU 1.5.3" >&2; exit 1; }
if grep 'id="NigGen"' <<<"$gpu_nuspec" | grep -q 'Analyzers'; then
  echo "package-check: NigGen.Gpu hides NigGen's generator from its users:" >&2; echo "$gpu_nuspec" >&2; exit 1
fi

step "fresh console project on NigGen.Gpu alone, run on ILGPU's CPU accelerator"
gpuapp="$work/gpuapp"
mkdir -p "$gpuapp"
cd "$gpuapp"
dotnet new console -n GpuPackageCheckApp -o . --force >/dev/null
cp "$app/NuGet.Config" .
dotnet add package NigGen.Gpu --version "$version" >/dev/null
cat > Program.cs <<'CS'
using System;
using NigGen;
using NigGen.Gpu;

// A user's first GPU program: the same network, its CPU path and its GPU path (here ILGPU's CPU simulator).
var net = MotifNet.CreateRandom(seed: 7);
var rng = new Random(3);
var inputs = new float[3 * MotifNet.InputLength];
for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)rng.NextDouble();
var baseline = new float[MotifNet.InputLength];
int[] targets = [0, 1, 0];
var options = new AttributionOptions { Steps = 8 };

var cpu = new float[3 * MotifNet.ImportanceLength];
var cpuDeltas = new float[3];
net.NeuronIntegratedGradients(inputs, baseline, targets, cpu, cpuDeltas, options);

using var device = GpuDevice.CreateCpuSimulator();
using var gpuNet = net.ToGpu(device.Accelerator);
var gpu = new float[cpu.Length];
var gpuDeltas = new float[3];
gpuNet.NeuronIntegratedGradients(inputs, baseline, targets, gpu, gpuDeltas, options);

double scale = 0, error = 0;
for (int i = 0; i < cpu.Length; i++) { scale = Math.Max(scale, Math.Abs(cpu[i])); error = Math.Max(error, Math.Abs(gpu[i] - cpu[i])); }
if (!(scale > 0) || error > 1e-4 * scale)
{
    Console.Error.WriteLine($"FAIL: GPU path differs from the CPU path by {error} (scale {scale})");
    return 1;
}
Console.WriteLine($"NigGen.Gpu package OK on {device.Name}: batched NIG agrees with the CPU path within {error / scale:E1} of the largest importance");
return 0;

[Network]
[Input(4, 32)]
public sealed partial class MotifNet
{
    [Conv(8, Kernel = 5, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)]                                                        Layer pool1;
    [Flatten]                                                           Layer flat;
    [Dense(16, Activation = Activation.Relu), AttributeLayer]           Layer fc1;
    [Dense(2)]                                                          Layer fc2;
}
CS
dotnet build -c Release -p:TreatWarningsAsErrors=true --nologo -v q
dotnet run -c Release --no-build

step "done"
