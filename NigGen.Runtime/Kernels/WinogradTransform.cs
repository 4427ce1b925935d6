using System;
using System.Numerics.Tensors;

namespace NigGen.Kernels;

/// <summary>
/// The matrices of a Winograd (Toom-Cook) minimal filtering algorithm F(m, r): m outputs of an r-tap correlation from
/// n = m + r − 1 inputs with n multiplications, y = Aᵀ[(G g) ⊙ (Bᵀ d)], nested for 2-D as
/// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
/// </summary>
/// <remarks>
/// Built from n − 1 finite evaluation points a_i and the point at infinity. Correlation is the transpose of the linear
/// convolution c = g * h that Toom-Cook computes as c = C[(G g) ⊙ (H h)]: evaluate both polynomials at the points
/// (H, G), multiply, interpolate (C). So Aᵀ = Hᵀ and Bᵀ = Cᵀ. Row i of G is (1, a_i, …, a_i^(r−1)) / N_i with
/// N_i = Π_(j≠i) (a_i − a_j), which leaves Bᵀ the coefficients of the integer polynomials M_i(x) = Π_(j≠i) (x − a_j);
/// the infinite point contributes the leading coefficients (last rows of G and H, last row of Bᵀ the coefficients of
/// M(x) = Π_j (x − a_j)). The weight side (G) is applied once at load in double precision, where its fractions cost
/// nothing; the per-call sides (Bᵀ, Aᵀ) have small integer entries, exact in float.
/// </remarks>
internal sealed class WinogradTransform
{
    private WinogradTransform(int outputs, int taps, double[] points)
    {
        Outputs = outputs;
        Taps = taps;
        int n = outputs + taps - 1;
        if (points.Length != n - 1)
        {
            throw new ArgumentException($"F({outputs}, {taps}) needs {n - 1} finite points.", nameof(points));
        }

        Size = n;
        InputTransposed = new float[n * n];
        OutputTransposed = new float[outputs * n];
        Filter = new double[n * taps];
        for (int i = 0; i < n - 1; i++)
        {
            double a = points[i];
            double scale = 1;
            double[] roots = new double[n - 2];
            for (int j = 0, k = 0; j < n - 1; j++)
            {
                if (j != i)
                {
                    scale *= a - points[j];
                    roots[k++] = points[j];
                }
            }

            for (int t = 0; t < taps; t++)
            {
                Filter[i * taps + t] = Math.Pow(a, t) / scale;
            }

            for (int o = 0; o < outputs; o++)
            {
                OutputTransposed[o * n + i] = (float)Math.Pow(a, o);
            }

            double[] coefficients = PolynomialFromRoots(roots);
            for (int t = 0; t < coefficients.Length; t++)
            {
                InputTransposed[i * n + t] = (float)coefficients[t];
            }
        }

        // The point at infinity: leading coefficients.
        Filter[(n - 1) * taps + taps - 1] = 1;
        OutputTransposed[(outputs - 1) * n + n - 1] = 1;
        double[] all = PolynomialFromRoots(points);
        for (int t = 0; t < n; t++)
        {
            InputTransposed[(n - 1) * n + t] = (float)all[t];
        }
    }

    /// <summary>F(4, 3): 3×3 kernels, 4×4 output tiles from 6×6 input tiles (36 multiplications instead of 144).</summary>
    public static WinogradTransform ForKernel3 { get; } = new(4, 3, [0, 1, -1, 2, -2]);

    /// <summary>
    /// F(4, 5): 5×5 kernels, 4×4 output tiles from 8×8 input tiles (64 multiplications instead of 400). The points ±1/2
    /// keep every coefficient a power of two times a small integer; in float its error is about twice F(2, 5)'s.
    /// </summary>
    public static WinogradTransform ForKernel5 { get; } = new(4, 5, [0, 1, -1, 2, -2, 0.5, -0.5]);

    /// <summary>The transform for an r×r kernel, or null when there is none.</summary>
    public static WinogradTransform? ForKernel(int taps) => taps switch
    {
        3 => ForKernel3,
        5 => ForKernel5,
        _ => null,
    };

    /// <summary>m: outputs per tile side.</summary>
    public int Outputs { get; }

    /// <summary>r: kernel taps per side.</summary>
    public int Taps { get; }

    /// <summary>n = m + r − 1: inputs per tile side.</summary>
    public int Size { get; }

    /// <summary>Bᵀ [n, n], row-major.</summary>
    public float[] InputTransposed { get; }

    /// <summary>Aᵀ [m, n], row-major.</summary>
    public float[] OutputTransposed { get; }

    /// <summary>G [n, r], row-major, in double: applied to the weights once.</summary>
    public double[] Filter { get; }

    /// <summary>
    /// The transformed weight U = G g Gᵀ of every (output, input) channel pair, laid out [n·n cells][inChannels][paddedOut]
    /// so that each cell is the B operand, row-major, of one GEMM over input channels; the output channels are padded
    /// with zeros to <paramref name="paddedOut"/>. Computed in float on rows of output channels of the transposed weight
    /// (every channel pair at once: about a millisecond for a 256×256×3×3 layer, so a training step can afford it).
    /// </summary>
    /// <param name="weightTransposed">The weight as [inChannels·r·r, outChannels] (<see cref="Layer.WeightTransposed"/>).</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="paddedOut">Output channels rounded up to the kernel's panel width.</param>
    /// <param name="transformed">n·n·inChannels·paddedOut floats; overwritten.</param>
    /// <param name="half">n·r·outChannels floats of scratch.</param>
    /// <returns>The largest magnitude in U (NaN if any is NaN), which bounds the kernel's intermediate values.</returns>
    public float TransformWeight(ReadOnlySpan<float> weightTransposed, int outChannels, int inChannels, int paddedOut, Span<float> transformed, Span<float> half)
    {
        int n = Size, r = Taps;
        transformed.Slice(0, n * n * inChannels * paddedOut).Clear();
        for (int ic = 0; ic < inChannels; ic++)
        {
            // half[i, kw] = Σ_kh G[i, kh] g[kh, kw], then U[i, j] = Σ_kw half[i, kw] G[j, kw]: rows of output channels.
            for (int i = 0; i < n; i++)
            {
                for (int kw = 0; kw < r; kw++)
                {
                    var row = half.Slice((i * r + kw) * outChannels, outChannels);
                    row.Clear();
                    for (int kh = 0; kh < r; kh++)
                    {
                        float coefficient = (float)Filter[i * r + kh];
                        if (coefficient != 0)
                        {
                            TensorPrimitives.MultiplyAdd(weightTransposed.Slice(((ic * r + kh) * r + kw) * outChannels, outChannels), coefficient, row, row);
                        }
                    }
                }
            }

            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    var cell = transformed.Slice(((i * n + j) * inChannels + ic) * paddedOut, outChannels);
                    for (int kw = 0; kw < r; kw++)
                    {
                        float coefficient = (float)Filter[j * r + kw];
                        if (coefficient != 0)
                        {
                            TensorPrimitives.MultiplyAdd(half.Slice((i * r + kw) * outChannels, outChannels), coefficient, cell, cell);
                        }
                    }
                }
            }
        }

        return TensorPrimitives.MaxMagnitude(transformed.Slice(0, n * n * inChannels * paddedOut)) is var largest && float.IsNaN(largest) ? float.NaN : Math.Abs(largest);
    }

    // Coefficients, lowest degree first, of Π (x − root).
    private static double[] PolynomialFromRoots(double[] roots)
    {
        var coefficients = new double[roots.Length + 1];
        coefficients[0] = 1;
        for (int k = 0; k < roots.Length; k++)
        {
            for (int t = k + 1; t > 0; t--)
            {
                coefficients[t] = coefficients[t - 1] - roots[k] * coefficients[t];
            }

            coefficients[0] *= -roots[k];
        }

        return coefficients;
    }
}
