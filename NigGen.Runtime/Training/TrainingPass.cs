using System;
using System.Collections.Generic;
using System.ComponentModel;
using NigGen.Attribution;

namespace NigGen.Training;

/// <summary>
/// What a <see cref="Trainer"/> drives: a workspace of the trainer's own for the network's forward pass, every
/// parameter layer's gradients, and the generated backward pass that fills them. Each generated network with a Dense
/// or Conv layer derives its own; <see cref="Trainer"/> is written once for all of them.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class TrainingPass
{
    /// <summary>Describes the network being trained (called by generated code).</summary>
    /// <param name="description">The network's description.</param>
    /// <param name="headName">The network's last Dense or Conv layer, whose output the loss reads as logits.</param>
    /// <param name="headActivation">That layer's activation; the trainer accepts <see cref="Activation.None"/> only.</param>
    protected TrainingPass(NetworkDescription description, string headName, Activation headActivation)
    {
        Description = description;
        HeadName = headName;
        HeadActivation = headActivation;
    }

    /// <summary>The network's description.</summary>
    public NetworkDescription Description { get; }

    /// <summary>The last Dense or Conv layer.</summary>
    public string HeadName { get; }

    /// <summary>The last Dense or Conv layer's activation.</summary>
    public Activation HeadActivation { get; }

    /// <summary>Samples one pass holds: a batch runs in blocks of this many, as <c>Forward</c> does.</summary>
    public virtual int Capacity => Description.ForwardBlock;

    /// <summary>
    /// Whether a training step must see its whole batch in one pass: BatchNorm normalises with the batch's statistics,
    /// so the batch cannot be split into blocks. The trainer then calls <see cref="Reserve"/> with the batch size.
    /// </summary>
    public virtual bool WholeBatch => false;

    /// <summary>Grows the workspace to hold <paramref name="batch"/> samples (networks with <see cref="WholeBatch"/>).</summary>
    public virtual void Reserve(int batch)
    {
    }

    /// <summary>
    /// The forward pass of training over the workspace's first <paramref name="batch"/> inputs: BatchNorm with batch
    /// statistics (updating its running ones, as PyTorch's train mode does) and Dropout's masks; other networks run the
    /// ordinary forward pass. <paramref name="step"/> and <paramref name="firstSample"/> (the block's offset in its
    /// batch) select Dropout's masks.
    /// </summary>
    public virtual void TrainingForward(int batch, long step, int firstSample) => Workspace.Forward(batch);

    /// <summary>After a step has updated the parameters: refreshes what is derived from them (folded BatchNorms).</summary>
    public virtual void AfterUpdate()
    {
    }

    /// <summary>The trainer's own workspace (not a thread's): its <see cref="NetworkWorkspace.Forward"/> runs the network.</summary>
    public abstract NetworkWorkspace Workspace { get; }

    /// <summary>Every Dense and Conv layer's gradients, in declaration order.</summary>
    public abstract IReadOnlyList<LayerGradients> Layers { get; }

    /// <summary>
    /// After <see cref="NetworkWorkspace.Forward"/> on <paramref name="batch"/> rows and with the loss's gradient in
    /// <see cref="NetworkWorkspace.OutputGradients"/>, propagates the gradient from the output down to the input-most
    /// parameter layer, adding every layer's weight and bias gradients to <see cref="Layers"/>.
    /// </summary>
    public abstract void Backward(int batch);
}
