using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>[Add(nameof(a), nameof(b), …)]: the element-wise sum of two or more layers of equal shape.</summary>
internal sealed class AddLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.Add;

    public override LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) => MultiInput.WithInputs(attribute, spec);

    public override bool HasActivationArgument => true;

    public override bool NamesItsInputs => true;

    public override int[]? InferShape(ShapeContext context)
    {
        var input = context.Input;
        for (int k = 1; k < context.Inputs.Length; k++)
        {
            if (!context.Inputs[k].SequenceEqual(input))
            {
                context.Report(DiagnosticDescriptors.AddShapeMismatch, context.Layer.Name, context.InputNames[0], Model.Shapes.Format(input), context.InputNames[k], Model.Shapes.Format(context.Inputs[k]));
                return null;
            }
        }

        return input;
    }

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input)
    {
        string pre = plan.PreActivationValues(layer.Index, input);
        w.Line($"global::NigGen.Kernels.GraphKernels.Add({plan.InputValues(layer, input)}, {plan.InputValues(layer, input, 1)}, {pre});");
        for (int k = 2; k < layer.Model.Inputs.Count; k++)
        {
            w.Line($"global::NigGen.Kernels.GraphKernels.Add({pre}, {plan.InputValues(layer, input, k)}, {pre});");
        }
    }

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows)
    {
        string gradient = plan.PreActivationGradient(layer.Index);
        for (int k = 0; k < layer.Model.Inputs.Count; k++)
        {
            if (plan.InputReadsGradientInPlace(layer, k))
            {
                w.Line($"// {layer.Name}'s input {plan.Layers[layer.SourceIndex(k)].Name} reads this gradient in place: nothing else reads its output.");
                continue;
            }

            w.Line($"global::NigGen.Kernels.GraphKernels.AddBackward({Rows(gradient, layer, rows)}, {plan.InputGradient(layer, k)}{writes.Accumulate(layer, k)});");
            writes.EmitWritten(w, layer, k);
        }
    }

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name) =>
        arguments.AddRange(layer.Inputs.Select(name));
}

/// <summary>What Add and Concat share: the attribute's <c>params string[]</c> of the layers they read.</summary>
internal static class MultiInput
{
    /// <summary>The names (a null element or a null array is reported by shape inference), or null when the argument did not compile.</summary>
    public static LayerSpec? WithInputs(AttributeData attribute, LayerSpec spec)
    {
        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind != TypedConstantKind.Array)
        {
            return null;
        }

        var array = attribute.ConstructorArguments[0];
        return spec with { Inputs = (array.IsNull ? Enumerable.Empty<string>() : array.Values.Select(v => v.Value as string ?? string.Empty)).ToEquatableArray() };
    }
}
