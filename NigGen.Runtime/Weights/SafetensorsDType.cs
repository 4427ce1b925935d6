namespace NigGen.Weights;

/// <summary>The element types <see cref="SafetensorsWriter"/> can store.</summary>
public enum SafetensorsDType
{
    /// <summary>IEEE 754 binary32, stored exactly (safetensors dtype <c>F32</c>).</summary>
    F32,
    /// <summary>IEEE 754 binary16, rounded to nearest even (safetensors dtype <c>F16</c>); values beyond ±65504 become infinite.</summary>
    F16,
    /// <summary>bfloat16, the upper 16 bits of a float32 rounded to nearest even (safetensors dtype <c>BF16</c>).</summary>
    BF16,
}
