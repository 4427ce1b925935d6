using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;

namespace NigGen.Serving.Protocol;

/// <summary>
/// Reads an $inference_request for one model and checks everything in it before any work: every error is an
/// <see cref="InferenceException"/> (400) whose message names the field. What a request may allocate is bounded by
/// <see cref="ServingOptions.MaxSamplesPerRequest"/> (and the body by <see cref="ServingOptions.MaxRequestBodyBytes"/>).
/// </summary>
internal static class InferenceRequestParser
{
    public const string InputName = "input";
    public const string BaselineName = "baseline";
    public const string TargetName = "target";
    public const string OutputName = "output";
    public const string ImportanceName = "importance";
    public const string DeltaName = "delta";
    public const string NeuronIntegratedGradientsMethod = "neuron_integrated_gradients";
    public const string DeepLiftMethod = "deeplift";
    public const string BinaryDataSize = "binary_data_size";
    public const string BinaryData = "binary_data";
    public const string BinaryDataOutput = "binary_data_output";

    private static readonly string[] RequestParameters = ["method", "steps", "rule", "deeplift_rule", BinaryDataOutput];

    internal static readonly (string Name, IntegrationRule Rule)[] Rules =
    [
        ("riemann_trapezoid", IntegrationRule.RiemannTrapezoid),
        ("riemann_left", IntegrationRule.RiemannLeft),
        ("riemann_right", IntegrationRule.RiemannRight),
        ("riemann_middle", IntegrationRule.RiemannMiddle),
        ("gauss_legendre", IntegrationRule.GaussLegendre),
    ];

    internal static readonly (string Name, DeepLiftRule Rule)[] DeepLiftRules =
    [
        ("rescale", DeepLiftRule.Rescale),
        ("reveal_cancel", DeepLiftRule.RevealCancel),
        ("genomics_default", DeepLiftRule.GenomicsDefault),
    ];

    public static string RuleName(IntegrationRule rule) => Rules.First(r => r.Rule == rule).Name;

    public static string DeepLiftRuleName(DeepLiftRule rule) => DeepLiftRules.First(r => r.Rule == rule).Name;

    /// <summary>Parses <paramref name="json"/> (the JSON part of the body) and <paramref name="binary"/> (the binary tensor data after it, if any).</summary>
    public static InferenceRequest Parse(ReadOnlySpan<byte> json, ReadOnlySpan<byte> binary, ServedModel model, ServingOptions options)
    {
        InferenceRequestDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.InferenceRequestDto);
        }
        catch (JsonException e)
        {
            throw InferenceException.BadRequest($"malformed JSON: {e.Message}");
        }

        if (dto is null)
        {
            throw InferenceException.BadRequest("the request body must be a JSON object (the protocol's $inference_request), not null.");
        }

        var (outputs, method) = ReadOutputs(dto, model);
        var key = ReadParameters(dto.Parameters, model, options, method, out bool binaryOutputs);
        if (binaryOutputs)
        {
            for (int i = 0; i < outputs.Length; i++)
            {
                outputs[i] = outputs[i] with { Binary = true };
            }
        }

        if (dto.Inputs is null || dto.Inputs.Count == 0)
        {
            throw InferenceException.BadRequest($"inputs is missing or empty: the request must send the tensor '{InputName}'.");
        }

        RequestInputDto? input = null, baseline = null, target = null;
        for (int i = 0; i < dto.Inputs.Count; i++)
        {
            var tensor = dto.Inputs[i] ?? throw InferenceException.BadRequest($"inputs[{i}] is null; each input is an object with name, shape, datatype and data.");
            switch (tensor.Name)
            {
                case InputName: Assign(ref input, tensor, i); break;
                case BaselineName: Assign(ref baseline, tensor, i); break;
                case TargetName: Assign(ref target, tensor, i); break;
                case null: throw InferenceException.BadRequest($"inputs[{i}] has no name; {model.Name} takes '{InputName}', and optionally '{BaselineName}' and '{TargetName}'.");
                default: throw InferenceException.BadRequest($"inputs[{i}] is named '{Cut(tensor.Name)}'; {model.Name} takes '{InputName}', and optionally '{BaselineName}' and '{TargetName}'.");
            }
        }

        if (input is null)
        {
            throw InferenceException.BadRequest($"inputs has no tensor named '{InputName}'.");
        }

        // Binary tensor data follows the JSON in the order of the inputs that declare binary_data_size.
        var binaryReader = new BinarySection(binary);
        var description = model.Description;
        int inputLength = description.InputLength;
        float[]? inputData = null, baselineData = null;
        int[]? targetData = null;
        int samples = 0;
        foreach (var tensor in dto.Inputs)
        {
            if (ReferenceEquals(tensor, input))
            {
                samples = RequireBatchShape(input, model, options.MaxSamplesPerRequest);
                inputData = ReadFloats(input, samples * inputLength, ref binaryReader);
            }
            else if (ReferenceEquals(tensor, baseline))
            {
                // The baseline's first dimension (1 or n) is checked once n is known, after this loop.
                int baselineSamples = RequireBatchShape(baseline!, model, options.MaxSamplesPerRequest);
                baselineData = ReadFloats(baseline!, baselineSamples * inputLength, ref binaryReader);
            }
            else if (ReferenceEquals(tensor, target))
            {
                targetData = ReadTargets(target!, options.MaxSamplesPerRequest, ref binaryReader, description.OutputLength);
            }
        }

        binaryReader.RequireConsumed();
        if (baselineData is not null && baselineData.Length != inputLength && baselineData.Length != samples * inputLength)
        {
            throw InferenceException.BadRequest($"{BaselineName}: shape {ShapeOf(baseline!)} must have 1 or {samples} samples (the input's), as {model.ShapeWithBatch("1")} or {model.ShapeWithBatch(samples.ToString(CultureInfo.InvariantCulture))}.");
        }

        if (targetData is not null && targetData.Length != samples)
        {
            throw InferenceException.BadRequest($"{TargetName}: shape {ShapeOf(target!)} must be [{samples}], one target per input sample.");
        }

        return new InferenceRequest
        {
            Id = dto.Id,
            Key = key,
            Samples = samples,
            Inputs = inputData!,
            Baselines = baselineData,
            Targets = targetData,
            Outputs = outputs,
        };
    }

    private static void Assign(ref RequestInputDto? slot, RequestInputDto tensor, int index)
    {
        if (slot is not null)
        {
            throw InferenceException.BadRequest($"inputs[{index}]: the tensor '{tensor.Name}' is sent twice.");
        }

        slot = tensor;
    }

    private static (RequestedOutput[] Outputs, AttributionMethod Method) ReadOutputs(InferenceRequestDto dto, ServedModel model)
    {
        if (dto.Outputs is null)
        {
            return ([new RequestedOutput(OutputKind.Output, false)], AttributionMethod.None);
        }

        if (dto.Outputs.Count == 0)
        {
            throw InferenceException.BadRequest($"outputs is empty; name at least one of '{OutputName}', '{ImportanceName}' and '{DeltaName}', or leave outputs out to get '{OutputName}'.");
        }

        var outputs = new RequestedOutput[dto.Outputs.Count];
        bool attribution = false;
        for (int i = 0; i < outputs.Length; i++)
        {
            var output = dto.Outputs[i] ?? throw InferenceException.BadRequest($"outputs[{i}] is null; each output is an object with a name.");
            var kind = output.Name switch
            {
                OutputName => OutputKind.Output,
                ImportanceName => OutputKind.Importance,
                DeltaName => OutputKind.Delta,
                null => throw InferenceException.BadRequest($"outputs[{i}] has no name; {model.Name} gives '{OutputName}', '{ImportanceName}' and '{DeltaName}'."),
                _ => throw InferenceException.BadRequest($"outputs[{i}] is named '{Cut(output.Name)}'; {model.Name} gives '{OutputName}', '{ImportanceName}' and '{DeltaName}'."),
            };
            if (Array.Exists(outputs.AsSpan(0, i).ToArray(), o => o.Kind == kind))
            {
                throw InferenceException.BadRequest($"outputs[{i}]: '{output.Name}' is requested twice.");
            }

            bool binary = false;
            foreach (var (name, value) in output.Parameters ?? [])
            {
                if (name == BinaryData)
                {
                    binary = RequireBool(value, $"outputs[{i}].parameters.{BinaryData}");
                }

                // Other output parameters (a client's classification or content_type hints) do not apply here and are ignored.
            }

            if (kind != OutputKind.Output)
            {
                if (!model.HasAttribution)
                {
                    throw InferenceException.BadRequest($"outputs[{i}]: {model.Name} has no [AttributeLayer], so it gives only '{OutputName}', not '{output.Name}'.");
                }

                attribution = true;
            }

            outputs[i] = new RequestedOutput(kind, binary);
        }

        return (outputs, attribution ? AttributionMethod.NeuronIntegratedGradients : AttributionMethod.None);
    }

    private static BatchKey ReadParameters(Dictionary<string, JsonElement>? parameters, ServedModel model, ServingOptions options, AttributionMethod method, out bool binaryOutputs)
    {
        binaryOutputs = false;
        int steps = model.DefaultSteps;
        var rule = model.DefaultRule;
        var deepLiftRule = model.DefaultDeepLiftRule;
        string? stepsOrRule = null, deepLiftRuleName = null;
        bool deepLift = false;
        foreach (var (name, value) in parameters ?? [])
        {
            string field = $"parameters.{name}";
            switch (name)
            {
                case "method":
                    string methodName = RequireString(value, field);
                    deepLift = methodName switch
                    {
                        NeuronIntegratedGradientsMethod => false,
                        DeepLiftMethod => true,
                        _ => throw InferenceException.BadRequest($"{field} is '{Cut(methodName)}'; it must be '{NeuronIntegratedGradientsMethod}' (the default) or '{DeepLiftMethod}'."),
                    };
                    break;
                case "steps":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out steps) || steps < 1 || steps > options.MaxSteps)
                    {
                        throw InferenceException.BadRequest($"{field} is {Cut(value.GetRawText())}; it must be an integer from 1 to {options.MaxSteps}.");
                    }

                    stepsOrRule = name;
                    break;
                case "rule":
                    string ruleName = RequireString(value, field);
                    int r = Array.FindIndex(Rules, x => x.Name == ruleName);
                    if (r < 0)
                    {
                        throw InferenceException.BadRequest($"{field} is '{Cut(ruleName)}'; it must be one of {string.Join(", ", Rules.Select(x => x.Name))}.");
                    }

                    rule = Rules[r].Rule;
                    stepsOrRule = name;
                    break;
                case "deeplift_rule":
                    string deepLiftName = RequireString(value, field);
                    int d = Array.FindIndex(DeepLiftRules, x => x.Name == deepLiftName);
                    if (d < 0)
                    {
                        throw InferenceException.BadRequest($"{field} is '{Cut(deepLiftName)}'; it must be one of {string.Join(", ", DeepLiftRules.Select(x => x.Name))}.");
                    }

                    deepLiftRule = DeepLiftRules[d].Rule;
                    deepLiftRuleName = name;
                    break;
                case BinaryDataOutput:
                    binaryOutputs = RequireBool(value, field);
                    break;
                default:
                    throw InferenceException.BadRequest($"parameters has an unknown parameter '{Cut(name)}'; this server reads {string.Join(", ", RequestParameters)}.");
            }
        }

        if (deepLift && stepsOrRule is not null)
        {
            throw InferenceException.BadRequest($"parameters.{stepsOrRule} applies to method '{NeuronIntegratedGradientsMethod}', not '{DeepLiftMethod}'.");
        }

        if (!deepLift && deepLiftRuleName is not null)
        {
            throw InferenceException.BadRequest($"parameters.deeplift_rule applies to method '{DeepLiftMethod}'; set parameters.method to '{DeepLiftMethod}' to use it.");
        }

        // Requests that want only the output are one batch whatever their attribution parameters say.
        return method == AttributionMethod.None
            ? new BatchKey(model, AttributionMethod.None, 0, default, default)
            : deepLift
                ? new BatchKey(model, AttributionMethod.DeepLift, 0, default, deepLiftRule)
                : new BatchKey(model, AttributionMethod.NeuronIntegratedGradients, steps, rule, default);
    }

    /// <summary>Checks that <paramref name="tensor"/> is FP32 of shape [n, ...InputShape] with 1 ≤ n ≤ the limit; returns n.</summary>
    private static int RequireBatchShape(RequestInputDto tensor, ServedModel model, int maxSamples)
    {
        string name = tensor.Name!;
        RequireDatatype(tensor, "FP32");
        var shape = tensor.Shape ?? throw InferenceException.BadRequest($"{name}: shape is missing; it must be {model.ShapeWithBatch("n")}.");
        var sample = model.InputShape;
        bool matches = shape.Length == sample.Count + 1;
        for (int d = 0; matches && d < sample.Count; d++)
        {
            matches = shape[d + 1] == sample[d];
        }

        if (!matches)
        {
            throw InferenceException.BadRequest($"{name}: shape {ShapeOf(tensor)} does not match {model.ShapeWithBatch("n")} ({model.Name}'s input is {model.SampleShapeText} per sample).");
        }

        if (shape[0] < 1 || shape[0] > maxSamples)
        {
            throw InferenceException.BadRequest($"{name}: shape {ShapeOf(tensor)} has {shape[0]} samples; a request holds 1 to {maxSamples}.");
        }

        return (int)shape[0];
    }

    private static int[] ReadTargets(RequestInputDto tensor, int maxSamples, ref BinarySection binary, int outputLength)
    {
        RequireDatatype(tensor, "INT32");
        var shape = tensor.Shape ?? throw InferenceException.BadRequest($"{TargetName}: shape is missing; it must be [n], one target per input sample.");
        if (shape.Length != 1 || shape[0] < 1 || shape[0] > maxSamples)
        {
            throw InferenceException.BadRequest($"{TargetName}: shape {ShapeOf(tensor)} must be [n], one target per input sample (1 to {maxSamples}).");
        }

        var targets = new int[shape[0]];
        if (BinarySize(tensor) is long size)
        {
            var bytes = binary.Take(tensor.Name!, size, targets.Length * sizeof(int), tensor.Data is not null);
            for (int i = 0; i < targets.Length; i++)
            {
                targets[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(i * sizeof(int)));
            }
        }
        else
        {
            var data = RequireData(tensor);
            int count = 0;
            FlattenInts(data, targets, ref count, tensor.Name!);
            RequireCount(tensor, count, targets.Length);
        }

        for (int i = 0; i < targets.Length; i++)
        {
            if ((uint)targets[i] >= (uint)outputLength)
            {
                throw InferenceException.BadRequest($"{TargetName}[{i}] = {targets[i]} is out of range: the model has {outputLength} outputs, so a target is 0 to {outputLength - 1}.");
            }
        }

        return targets;
    }

    private static float[] ReadFloats(RequestInputDto tensor, int expected, ref BinarySection binary)
    {
        string name = tensor.Name!;
        var values = new float[expected];
        if (BinarySize(tensor) is long size)
        {
            var bytes = binary.Take(name, size, expected * sizeof(float), tensor.Data is not null);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float)));
                if (!float.IsFinite(values[i]))
                {
                    throw InferenceException.BadRequest($"{name}.data[{i}] is {values[i].ToString(CultureInfo.InvariantCulture)}; every value must be finite.");
                }
            }

            return values;
        }

        var data = RequireData(tensor);
        RequireNestingMatchesShape(tensor, data);
        int count = 0;
        FlattenFloats(data, values, ref count, name);
        RequireCount(tensor, count, expected);
        return values;
    }

    private static void FlattenFloats(JsonElement element, float[] values, ref int count, string name)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                FlattenFloats(item, values, ref count, name);
            }

            return;
        }

        if (count >= values.Length)
        {
            throw InferenceException.BadRequest($"{name}: data holds more than the {values.Length} values its shape needs.");
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetSingle(out float value) && float.IsFinite(value))
        {
            values[count++] = value;
            return;
        }

        throw InferenceException.BadRequest($"{name}.data[{count}] is {Cut(element.GetRawText())}: {NotANumber(element, "an FP32 number")}");
    }

    private static void FlattenInts(JsonElement element, int[] values, ref int count, string name)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                FlattenInts(item, values, ref count, name);
            }

            return;
        }

        if (count >= values.Length)
        {
            throw InferenceException.BadRequest($"{name}: data holds more than the {values.Length} values its shape needs.");
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out int value))
        {
            values[count++] = value;
            return;
        }

        throw InferenceException.BadRequest($"{name}.data[{count}] is {Cut(element.GetRawText())}: {NotANumber(element, "an INT32")}");
    }

    private static string NotANumber(JsonElement element, string what)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            string text = element.GetString()!;
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && !double.IsFinite(parsed)
                ? "NaN and infinite values are not accepted; every value must be finite."
                : $"a string, not {what}.";
        }

        if (element.ValueKind == JsonValueKind.Number)
        {
            return what == "an INT32" ? "not an INT32 (a whole number from -2147483648 to 2147483647)."
                : "outside FP32's range: it would be infinite, and every value must be finite.";
        }

        return $"not {what}.";
    }

    /// <summary>
    /// Nested data (the protocol's row-major nested form) must be rectangular: every array at one depth as long as the
    /// first one there, values only at the deepest level. It is then read in row-major order whether it nests the whole
    /// shape ([1, 4, 200]) or its last dimensions (4 arrays of 200), as clients commonly send it; a ragged nesting whose
    /// total happens to match would otherwise be read as other values than the client meant. Flat data is not checked.
    /// </summary>
    private static void RequireNestingMatchesShape(RequestInputDto tensor, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Array || data.GetArrayLength() == 0 || data[0].ValueKind != JsonValueKind.Array)
        {
            return;
        }

        // The grid the first path down the nesting describes; the request's depth limit bounds it.
        var lengths = new List<int>();
        for (var element = data; element.ValueKind == JsonValueKind.Array; element = element.GetArrayLength() > 0 ? element[0] : default)
        {
            lengths.Add(element.GetArrayLength());
            if (element.GetArrayLength() == 0)
            {
                break;
            }
        }

        void Check(JsonElement element, int depth, string path)
        {
            bool isArray = element.ValueKind == JsonValueKind.Array;
            if (depth < lengths.Count ? !isArray || element.GetArrayLength() != lengths[depth] : isArray)
            {
                string found = isArray ? $"an array of {element.GetArrayLength()}" : "a single value";
                string expected = depth < lengths.Count ? $"an array of {lengths[depth]}" : "a value";
                throw InferenceException.BadRequest($"{tensor.Name}.{path} is {found}, but nested data must be rectangular: {expected} there, as the first element at that depth.");
            }

            if (!isArray)
            {
                return;
            }

            int i = 0;
            foreach (var item in element.EnumerateArray())
            {
                Check(item, depth + 1, $"{path}[{i++}]");
            }
        }

        Check(data, 0, "data");
    }

    private static void RequireCount(RequestInputDto tensor, int count, int expected)
    {
        if (count != expected)
        {
            throw InferenceException.BadRequest($"{tensor.Name}: data holds {count} values but shape {ShapeOf(tensor)} needs {expected}.");
        }
    }

    private static JsonElement RequireData(RequestInputDto tensor) =>
        tensor.Data is { ValueKind: not JsonValueKind.Null } data
            ? data
            : throw InferenceException.BadRequest($"{tensor.Name}: data is missing (send it as a JSON array, or as binary data with parameters.{BinaryDataSize}).");

    private static void RequireDatatype(RequestInputDto tensor, string datatype)
    {
        if (tensor.Datatype != datatype)
        {
            throw InferenceException.BadRequest(tensor.Datatype is null
                ? $"{tensor.Name}: datatype is missing; it must be {datatype}."
                : $"{tensor.Name}: datatype is '{Cut(tensor.Datatype)}'; it must be {datatype}.");
        }
    }

    private static long? BinarySize(RequestInputDto tensor)
    {
        if (tensor.Parameters is null || !tensor.Parameters.TryGetValue(BinaryDataSize, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long size) && size >= 0
            ? size
            : throw InferenceException.BadRequest($"{tensor.Name}.parameters.{BinaryDataSize} is {Cut(value.GetRawText())}; it must be a whole number of bytes.");
    }

    private static string RequireString(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw InferenceException.BadRequest($"{field} is {Cut(value.GetRawText())}; it must be a string.");

    private static bool RequireBool(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw InferenceException.BadRequest($"{field} is {Cut(value.GetRawText())}; it must be true or false."),
    };

    private static string ShapeOf(RequestInputDto tensor) => "[" + string.Join(", ", tensor.Shape ?? []) + "]";

    // Names and values from the request are cut short in messages, so a hostile request cannot make a huge error.
    internal static string Cut(string text) => text.Length <= 64 ? text : text[..61] + "...";

    /// <summary>The binary tensor data after the JSON: inputs with binary_data_size take their bytes in order.</summary>
    private ref struct BinarySection(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;
        private int _taken;

        public ReadOnlySpan<byte> Take(string name, long size, int expectedBytes, bool alsoHasData)
        {
            if (alsoHasData)
            {
                throw InferenceException.BadRequest($"{name}: has both data and parameters.{BinaryDataSize}; send one.");
            }

            if (size != expectedBytes)
            {
                throw InferenceException.BadRequest($"{name}: parameters.{BinaryDataSize} is {size} bytes but its shape needs {expectedBytes}.");
            }

            if (size > _rest.Length)
            {
                throw InferenceException.BadRequest($"{name}: parameters.{BinaryDataSize} is {size} bytes but only {_rest.Length} bytes of binary data are left after byte {_taken} of it.");
            }

            var bytes = _rest[..expectedBytes];
            _rest = _rest[expectedBytes..];
            _taken += expectedBytes;
            return bytes;
        }

        public readonly void RequireConsumed()
        {
            if (_rest.Length > 0)
            {
                throw InferenceException.BadRequest($"the body has {_rest.Length} bytes of binary data that no input's parameters.{BinaryDataSize} accounts for.");
            }
        }
    }
}
