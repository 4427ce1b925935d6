using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>Gradient × activation and ablation against the double-precision reference.</summary>
public sealed class GradientTimesActivationAndAblationTests
{
    /// <summary>∂F/∂h by finite differences of the reference's layers above h, times h.</summary>
    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Gradient_times_activation_matches_finite_differences_of_the_reference(string name)
    {
        var subject = Subjects.ByName(name);
        var reference = subject.Reference;
        var description = subject.Network.Description;
        var importance = new float[description.ImportanceLength];
        for (int target = 0; target < description.OutputLength; target++)
        {
            var input = subject.RandomInput(seed: 100 + target);
            subject.Network.GradientTimesActivation(input, target, importance);

            var x = input.Select(v => (double)v).ToArray();
            foreach (var layer in description.AttributeLayers)
            {
                int index = reference.IndexOf(layer.Name);
                var hidden = reference.Hidden(x, index, layer.PreActivation);
                var gradient = FiniteDifferences.Gradient(h => reference.ForwardFromHidden(h, index, layer.PreActivation)[target], hidden);
                var expected = gradient.Select((g, j) => g * hidden[j]).ToArray();
                ForwardAndGradientTests.AssertClose(expected, importance.AsSpan(layer.Offset, layer.Length), $"{name} target {target} layer {layer.Name}");
            }
        }
    }

    /// <summary>Every third neuron over all attribute layers fixed to its baseline value, on the reference.</summary>
    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Ablate_matches_the_reference_with_the_neurons_overridden(string name)
    {
        var subject = Subjects.ByName(name);
        var reference = subject.Reference;
        var description = subject.Network.Description;
        var input = subject.RandomInput(seed: 110);
        var baseline = subject.RandomInput(seed: 111);
        int[] neurons = Enumerable.Range(0, description.ImportanceLength).Where(j => j % 3 == 1).ToArray();

        var output = new float[description.OutputLength];
        subject.Network.Ablate(input, baseline, neurons, output);

        var chosen = new HashSet<int>(neurons);
        var x0 = baseline.Select(v => (double)v).ToArray();
        var expected = reference.Forward(input.Select(v => (double)v).ToArray(), (index, preActivation, value) =>
        {
            var layer = description.AttributeLayers.FirstOrDefault(l => l.Name == reference.Layers[index].Name && l.PreActivation == preActivation);
            if (layer is null)
            {
                return value;
            }

            var atBaseline = reference.Hidden(x0, index, preActivation);
            return value.Select((v, j) => chosen.Contains(layer.Offset + j) ? atBaseline[j] : v).ToArray();
        });
        ForwardAndGradientTests.AssertClose(expected, output, $"{name} ablated", relative: 1e-5);
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Ablating_nothing_is_the_forward_pass_and_ablating_a_whole_layer_is_the_baseline(string name)
    {
        var subject = Subjects.ByName(name);
        var network = subject.Network;
        int outputs = network.Description.OutputLength;
        var input = subject.RandomInput(seed: 120);
        var baseline = subject.RandomInput(seed: 121);
        var forward = new float[2 * outputs];
        network.Forward(input.Concat(baseline).ToArray(), forward);

        var output = new float[outputs];
        network.Ablate(input, baseline, [], output);
        ForwardAndGradientTests.AssertClose(forward.Take(outputs).Select(v => (double)v).ToArray(), output, $"{name} nothing ablated", relative: 1e-6);

        // Each attribute layer is a cut of the network: with all of its neurons at the baseline, the layers above see the baseline.
        foreach (var layer in network.Description.AttributeLayers)
        {
            network.Ablate(input, baseline, Enumerable.Range(layer.Offset, layer.Length).ToArray(), output);
            ForwardAndGradientTests.AssertClose(forward.Skip(outputs).Select(v => (double)v).ToArray(), output, $"{name} {layer.Name} ablated", relative: 1e-6);
        }
    }
}
