using NigGen;

namespace NigGen.Sample;

/// <summary>A LeNet-style digit classifier on 1×28×28 images; the 128 neurons of fc1 are scored.</summary>
[Network]
[Input(1, 28, 28)]
public sealed partial class DigitNet
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)] Layer conv1;
    [MaxPool(2)]                                          Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu)] Layer conv2;
    [MaxPool(2)]                                          Layer pool2;
    [Flatten]                                             Layer flat;
    [Dense(128, Activation = Activation.Relu), AttributeLayer] Layer fc1;
    [Dense(10)]                                           Layer fc2;
}
