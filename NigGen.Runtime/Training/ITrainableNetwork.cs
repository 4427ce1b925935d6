using NigGen.Training;

namespace NigGen;

/// <summary>
/// A generated network with at least one Dense or Conv layer: it can be trained in process, for code that trains any
/// network (the generated class has the same member).
/// </summary>
public interface ITrainableNetwork : INetwork
{
    /// <summary>Creates a trainer that updates the network's parameters in place with Adam; see <see cref="Trainer"/>.</summary>
    Trainer CreateTrainer(TrainingOptions options);
}
