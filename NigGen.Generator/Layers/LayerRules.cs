using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// Everything the generator knows about one layer kind, in one place: how its attribute reads, its shape rule and
/// diagnostics, its parameters, and the code it contributes to every pass (forward, backward, DeepLIFT, training), to
/// the description and to the GPU backend. One sealed subclass per kind (or per pair of kinds that share their code),
/// looked up in <see cref="LayerRegistry"/>. The emitters own the orchestration (the plan, buffers, the order of layers,
/// method skeletons) and ask the kind for its part; a member's default is what most kinds do.
/// </summary>
internal abstract class LayerRules
{
    /// <summary>The kind these rules are for.</summary>
    public abstract LayerKind Kind { get; }

    // ---- Declaration: the attribute ----

    /// <summary>The attribute class that declares the kind (<c>DenseAttribute</c>).</summary>
    public string AttributeName => Kind + "Attribute";

    /// <summary>
    /// <paramref name="spec"/> (the named arguments read) with the attribute's constructor arguments: null when they do
    /// not compile, which the compiler reports. Default: the kind takes none.
    /// </summary>
    public virtual LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) => spec;

    /// <summary>Stride when the attribute does not set it: 0 means "the window" on a pooling.</summary>
    public virtual int DefaultStride => 0;

    /// <summary>Whether the attribute has <c>Bias</c> (Dense and Conv).</summary>
    public virtual bool HasBiasArgument => false;

    /// <summary>Whether the attribute has <c>Activation</c>.</summary>
    public virtual bool HasActivationArgument => false;

    /// <summary>Whether the attribute names the layers it reads (Add, Concat) instead of reading one through <c>From</c>.</summary>
    public virtual bool NamesItsInputs => false;

    // ---- Shape ----

    /// <summary>The output shape per sample, or null after reporting why the inputs or arguments are invalid.</summary>
    public abstract int[]? InferShape(ShapeContext context);

    // ---- Parameters ----

    /// <summary>Whether the weights file holds tensors of the layer.</summary>
    public virtual bool HasWeights => false;

    /// <summary>
    /// Whether the layer computes a weighted sum of its input (Dense, Conv): it has parameters a trainer fits, a
    /// BatchNorm reading it can fold into it, and RevealCancel can split its positive and negative terms.
    /// </summary>
    public virtual bool IsWeightedSum => false;

    /// <summary>The weight's shape in PyTorch's layout; empty for kinds without one.</summary>
    public virtual int[] WeightShape(LayerModel layer) => [];

    /// <summary>The tensors, named and shaped as in PyTorch's state_dict (the construction reads the same).</summary>
    public virtual IEnumerable<LayerTensor> Tensors(LayerModel layer) => [];

    /// <summary>The statement creating the layer's field in the constructor; <paramref name="prefix"/> is the quoted state_dict prefix.</summary>
    public virtual string Construction(LayerPlan layer, string prefix) => $"{layer.Field} = global::NigGen.Layer.WithoutParameters(\"{layer.Name}\");";

    // ---- The plan ----

    /// <summary>Whether the layer shares the buffers of the layer it reads (an identity: Flatten, Dropout outside training).</summary>
    public virtual bool IsAlias(bool training) => false;

    /// <summary>Why a layer that aliases its input has no steps of its own.</summary>
    public virtual string AliasReason => string.Empty;

    /// <summary>Whether the layer, reading an unscored weighted sum nothing else reads, folds into it at load (BatchNorm in eval mode).</summary>
    public virtual bool FoldsIntoWeightedSum => false;

    /// <summary>Whether the layer keeps a max pooling's argmax for the backward pass.</summary>
    public virtual bool HasArgmax => false;

    /// <summary>Whether, unscored, the layer is linear and may sit below the affine prefix's weighted sum (see <c>EmitPlan.AffinePrefixLayer</c>).</summary>
    public virtual bool PassesAffinePrefix(LayerSpec spec) => false;

    /// <summary>Whether the path methods can compute the layer in one kernel from the interpolated weighted sum below it (<c>EmitPlan.FusedPathLayer</c>).</summary>
    public virtual bool FusesIntoPath(LayerSpec spec) => false;

    /// <summary>Whether the inference pass applies the activation of the layer below inside this layer's kernel.</summary>
    public virtual bool FusesActivationBelow(LayerSpec spec) => false;

    /// <summary>Whether the inference pass applies the layer's own ReLU inside its kernel.</summary>
    public virtual bool FusesRelu => false;

    // ---- Code shared by every pass ----

    /// <summary>The declaration of the layer's geometry in the generated <c>Geometry</c> class, or null without one.</summary>
    public virtual string? Geometry(LayerPlan layer) => null;

    /// <summary>The workspace scratch the layer's kernels need (an expression), or null for none.</summary>
    public virtual string? ScratchLength(LayerPlan layer) => null;

    /// <summary>The comment line naming the layer above its kernel calls.</summary>
    public virtual string Describe(LayerModel m) => $"{m.Name}: {m.Kind} {Shapes(m)}{Activation(m)}";

    /// <summary>
    /// The kernel calls computing the layer's pre-activation (its output, without activation) from the layers it reads:
    /// shared by every forward pass the generator writes, so they all compute the same numbers.
    /// </summary>
    public abstract void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input);

    /// <summary>
    /// The inference pass's kernel when <see cref="FusesActivationBelow"/> or <see cref="FusesRelu"/> holds: the layer
    /// with <paramref name="below"/>'s activation, or with its own ReLU, applied inside it.
    /// </summary>
    public virtual void EmitFusedInference(SourceWriter w, EmitPlan plan, LayerPlan layer, LayerPlan? below)
    {
    }

    /// <summary>
    /// The calls computing the layer's pre-activation and then <paramref name="pool"/>, the max pooling right above it that
    /// takes its activation (<see cref="FusesActivationBelow"/>): the two kernels, unless the layer's own can pool (a
    /// convolution's).
    /// </summary>
    public virtual void EmitForwardMaxPooled(SourceWriter w, EmitPlan plan, LayerPlan layer, LayerPlan pool, string input)
    {
        EmitForward(w, plan, layer, input);
        pool.Rules.EmitFusedInference(w, plan, pool, layer);
    }

    /// <summary>
    /// The call computing the layer's pre-activation along the path with <c>ws.Chain</c> (NigGen.Kernels.PathChain), an
    /// expression that is false where the chain leaves the layer to its usual kernel; null for a layer kind the chain
    /// cannot update (only a weighted sum can).
    /// </summary>
    public virtual string? PathChainCall(EmitPlan plan, LayerPlan layer, string input) => null;

    /// <summary>
    /// The kernel calls taking the layer's pre-activation gradient to the output gradients of the layers it reads, adding
    /// to a buffer another layer has already written in this pass: shared by every backward pass.
    /// </summary>
    public abstract void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows);

    /// <summary>The path methods' one kernel from the interpolated weighted sum to this layer's output (see <see cref="FusesIntoPath"/>).</summary>
    public virtual string FusedPathKernel(LayerPlan layer, string activation, string output, string scratch) =>
        $"global::NigGen.Kernels.InterpolationKernels.InterpolateActivated({activation}, AffineDifference, AffineAtBaseline, alphas, {output});";

    // ---- DeepLIFT ----

    /// <summary>Whether the layer's DeepLIFT step runs its gradient kernel on the multipliers' row (false: a kernel of its own).</summary>
    public virtual bool DeepLiftUsesGradientKernel => true;

    /// <summary>The multipliers of the layers it reads, for a layer without a RevealCancel split: as gradients, by default.</summary>
    public virtual void EmitDeepLift(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes) =>
        EmitInputGradient(w, plan, layer, writes, rows: "multiplierRows");

    /// <summary>
    /// For a weighted sum (required there, with <see cref="RevealCancelSplit"/> and <see cref="RevealCancelBackward"/>):
    /// the local flag that says RevealCancel splits its terms, and its value from the rule. Null for other kinds.
    /// </summary>
    public virtual (string Flag, string Condition)? RevealCancelFlag => null;

    /// <summary>For a weighted sum: the kernel call splitting its positive and negative terms (<paramref name="shapes"/> gives the sizes).</summary>
    public virtual string RevealCancelSplit(LayerPlan shapes, string inputs, string weights, string multipliers) => string.Empty;

    /// <summary>For a weighted sum: the kernel call carrying the parts' multipliers to its input.</summary>
    public virtual string RevealCancelBackward(LayerPlan layer, string multipliers, string inputs, string target) => string.Empty;

    /// <summary>Whether RevealCancel's split of a weighted sum read by this layer goes through it to its activation (an unfolded BatchNorm).</summary>
    public virtual bool CarriesRevealCancelSplit => false;

    /// <summary>Where <see cref="CarriesRevealCancelSplit"/>: the kernel call taking the split's two rows (x⁺, x⁻) through the layer.</summary>
    public virtual string CarrySplitParts(LayerPlan layer, string parts) => string.Empty;

    /// <summary>Where <see cref="CarriesRevealCancelSplit"/>: the kernel call taking the parts' multipliers (m⁺, m⁻) back through the layer.</summary>
    public virtual string CarrySplitMultipliersBack(LayerPlan layer, string multipliers) => string.Empty;

    // ---- Training ----

    /// <summary>Whether a trainer fits parameters of the layer.</summary>
    public virtual bool IsTrained(LayerSpec spec) => IsWeightedSum;

    /// <summary>Whether training's forward pass computes the layer differently from inference (batch statistics, a mask).</summary>
    public virtual bool HasTrainingForward => false;

    /// <summary>Training's forward kernel calls: the inference ones unless <see cref="HasTrainingForward"/>.</summary>
    public virtual void EmitTrainingForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string source, string pre) =>
        EmitForward(w, plan, layer, EmitPlan.WorkspaceInputs);

    /// <summary>
    /// Training's backward step below the activation: the parameter gradients into <c>state</c>, and the input gradient
    /// when <paramref name="inputGradient"/> (above the input-most trained layer) or when the kernel gives it anyway.
    /// </summary>
    public virtual void EmitTrainingBackward(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, bool inputGradient)
    {
        if (inputGradient)
        {
            EmitInputGradient(w, plan, layer, writes, rows: "batch");
            w.Line();
        }
    }

    /// <summary>Whether training's backward pass writes the layer's input gradient even at the input-most trained layer.</summary>
    public virtual bool AlwaysWritesTrainingInputGradient => false;

    /// <summary>Whether training needs the whole batch at once (batch statistics).</summary>
    public virtual bool TrainsOnWholeBatch => false;

    /// <summary>Why training refuses a network whose output is this layer (what it is, and what the loss would then read), or null.</summary>
    public virtual (string What, string Consequence)? UntrainableAsOutput => null;

    /// <summary>Whether training draws a random mask for the layer (a trainer then holds a seed).</summary>
    public virtual bool HasTrainingMask => false;

    /// <summary>Floats of weight-gradient scratch per sample of a training block.</summary>
    public virtual int WeightGradientScratchPerSample(LayerModel layer) => 0;

    /// <summary>The weight-gradient scratch of one sample (an expression), or null.</summary>
    public virtual string? WeightGradientScratchLength(LayerPlan layer) => null;

    /// <summary>Whether the kernel writes the weight gradient in the transposed layout [in·k…, out].</summary>
    public virtual bool WeightGradientTransposed => false;

    /// <summary>The trainer's fields for the layer beyond its parameter gradients (BatchNorm's batch statistics).</summary>
    public virtual void EmitTrainingState(SourceWriter w, LayerPlan layer)
    {
    }

    // ---- Description ----

    /// <summary>The attribute's arguments that differ from their defaults, for the declaration the summary prints (From, Activation, Bias and Weights are added by the caller).</summary>
    public virtual void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name)
    {
    }

    // ---- GPU backend ----

    /// <summary>
    /// Why the GPU backend cannot run this layer as declared, or null when it can. By default the backend has no such
    /// layer; a kind that returns null must also write its <see cref="GpuLayer"/>.
    /// </summary>
    public virtual string? GpuUnsupportedReason(LayerModel layer) => layer.Kind.ToString();

    /// <summary>The layer's entry in the generated <c>GpuLayers()</c>; asked only where <see cref="GpuUnsupportedReason"/> is null for every layer.</summary>
    public virtual string GpuLayer(LayerPlan layer) => string.Empty;

    // ---- Helpers for the kinds ----

    protected static string Shapes(LayerModel m) => $"{Model.Shapes.Format(m.InputShape)} → {Model.Shapes.Format(m.OutputShape)}";

    protected static string Activation(LayerModel m) => m.HasActivation ? ", " + m.Activation : string.Empty;

    protected static string Number(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A float literal, as the kernels receive it: 0.1f.</summary>
    protected static string Float(double value) => ((float)value).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f";

    /// <summary>The gradient's first <paramref name="rows"/> rows (DeepLIFT runs on one).</summary>
    internal static string Rows(string gradient, LayerPlan layer, string rows) => rows == "batch" ? gradient : $"{gradient}.Slice(0, {rows} * {layer.LengthName})";
}

/// <summary>One tensor of a layer in the weights file: its state_dict name, shape, and whether a trainer fits it.</summary>
internal readonly record struct LayerTensor(string Name, int[] Shape, bool IsParameter);
