namespace NigGen;

/// <summary>How DeepLIFT carries multipliers through a nonlinearity (Shrikumar et al., 2017).</summary>
public enum DeepLiftRule
{
    /// <summary>
    /// m = Δy / Δx, the gradient f'(x) where |Δx| &lt; 1e-10, and Captum's rule for max pooling: Captum's DeepLift and
    /// LayerDeepLift, and the default.
    /// </summary>
    Rescale,

    /// <summary>
    /// kundajelab/deeplift's RevealCancel: the positive and negative contributions Δx⁺, Δx⁻ reaching a neuron get their own
    /// multipliers m⁺ = Δy⁺/Δx⁺ and m⁻ = Δy⁻/Δx⁻, with Δy⁺ = ½[f(x₀+Δx⁺) − f(x₀)] + ½[f(x₀+Δx⁻+Δx⁺) − f(x₀+Δx⁻)] and Δy⁻
    /// symmetric, so that positive and negative terms that cancel are not hidden from each other. Captum lacks it.
    /// </summary>
    RevealCancel,

    /// <summary>
    /// deeplift's genomics default: RevealCancel for the activation of a Dense layer, Rescale for that of a Conv layer.
    /// </summary>
    GenomicsDefault,
}
