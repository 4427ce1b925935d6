using System;
using NigGen.Gpu;
using NigGen.Weights;
using Xunit;

namespace NigGen.Gpu.Tests;

/// <summary>What the device kernels cannot compute is refused when the layer list is built, naming the layer and what it lacks.</summary>
public sealed class UnsupportedLayerTests
{
    [Theory]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Silu)]
    public void Gelu_and_Silu_are_refused(Activation activation)
    {
        var layer = Layer.Create("fc", [3, 2], hasBias: true, new RandomWeightSource(1));
        var error = Assert.Throws<NotSupportedException>(() => GpuLayer.Dense(layer, 2, 3, activation));
        Assert.Equal($"Layer 'fc': the GPU backend does not support Activation.{activation}; run this network on the CPU.", error.Message);
    }

    [Fact]
    public void Padded_pooling_is_refused()
    {
        var g = new NigGen.Kernels.PoolGeometry(1, 4, 4, 3, 3, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 };
        var error = Assert.Throws<NotSupportedException>(() => GpuLayer.MaxPool(Layer.WithoutParameters("pool"), g));
        Assert.Equal("Layer 'pool': the GPU backend does not support padded pooling (PoolGeometry { channels 1, in 4×4, window 3×3, stride 2×2, padding 1×1 }); run this network on the CPU.", error.Message);
        Assert.Throws<NotSupportedException>(() => GpuLayer.AvgPool(Layer.WithoutParameters("pool"), g));
    }

    [Fact]
    public void Dilated_and_grouped_convolutions_are_refused()
    {
        var g = new NigGen.Kernels.ConvGeometry(4, 6, 6, 4, 3, 3, 1, 1, 1, 1) { Groups = 4 };
        var layer = Layer.Create("depthwise", [4, 1, 3, 3], hasBias: false, new RandomWeightSource(1));
        var error = Assert.Throws<NotSupportedException>(() => GpuLayer.Conv(layer, g, Activation.Relu));
        Assert.Equal("Layer 'depthwise': the GPU backend does not support dilated or grouped convolutions (ConvGeometry { in 4×6×6, out channels 4, kernel 3×3, stride 1×1, padding 1×1, groups 4 }); run this network on the CPU.", error.Message);
        var dilated = new NigGen.Kernels.ConvGeometry(1, 1, 20, 2, 1, 3, 1, 1, 0, 2) { DilationWidth = 2 };
        Assert.Throws<NotSupportedException>(() => GpuLayer.Conv(Layer.Create("dilated", [2, 1, 3], hasBias: false, new RandomWeightSource(1)), dilated, Activation.None));
    }
}
