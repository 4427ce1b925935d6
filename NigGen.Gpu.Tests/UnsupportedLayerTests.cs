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
}
