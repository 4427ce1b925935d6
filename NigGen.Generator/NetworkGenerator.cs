using System;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Analysis;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;
using NigGen.Generator.Parsing;

namespace NigGen.Generator;

/// <summary>
/// The incremental pipeline: Parse ([Network] classes → declarations), Analyse (shape inference → model and
/// diagnostics), then two outputs, source from the model and diagnostics from the analysis, so that a diagnostic's
/// location never invalidates the cached source.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline's steps (asserted by the caching tests).</summary>
    public static class Steps
    {
        /// <summary>Symbols and attributes read into a declaration.</summary>
        public const string Parse = nameof(Parse);

        /// <summary>Shape inference and validation.</summary>
        public const string Analyse = nameof(Analyse);

        /// <summary>The validated model the source is emitted from.</summary>
        public const string Model = nameof(Model);

        /// <summary>The diagnostics to report.</summary>
        public const string Diagnostics = nameof(Diagnostics);

        /// <summary>The warning for a layer the GPU backend lacks, reported only when the GPU runtime is referenced.</summary>
        public const string GpuDiagnostics = nameof(GpuDiagnostics);

        /// <summary>Whether the compilation references NigGen.Runtime.Gpu (a bool, so that edits leave it cached).</summary>
        public const string GpuReference = nameof(GpuReference);

        /// <summary>The model with that bool: what the source is emitted from.</summary>
        public const string Source = nameof(Source);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var analysed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                NetworkParser.NetworkAttributeName,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax,
                transform: static (context, token) => NetworkParser.Parse(context, token))
            .WithTrackingName(Steps.Parse)
            .Select(static (parsed, _) => ShapeInference.Analyse(parsed))
            .WithTrackingName(Steps.Analyse);

        var models = analysed
            .Select(static (analysed, _) => analysed.Model)
            .WithTrackingName(Steps.Model);

        var diagnostics = analysed
            .Select(static (analysed, _) => analysed.Diagnostics)
            .WithTrackingName(Steps.Diagnostics);

        // The GPU path is emitted only for compilations that reference its runtime. Reduced to a bool, the compilation
        // (new on every edit) compares equal from one edit to the next, so the source step stays cached.
        var gpuReference = context.CompilationProvider
            .Select(static (compilation, _) => GpuEmitter.IsReferenced(compilation))
            .WithTrackingName(Steps.GpuReference);

        var sources = models
            .Combine(gpuReference)
            .WithTrackingName(Steps.Source);

        context.RegisterSourceOutput(sources, static (output, source) =>
        {
            var (model, gpu) = source;
            if (model is not null)
            {
                output.AddSource(NetworkEmitter.HintName(model), NetworkEmitter.Emit(model, gpu));
            }
        });

        // Only reporting depends on the compilation (to locate diagnostics in its trees); the source output does not.
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (output, pair) =>
        {
            foreach (var diagnostic in pair.Left)
            {
                output.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Right));
            }
        });

        // A layer the GPU backend lacks is worth a warning only where the GPU path would have been emitted.
        var gpuDiagnostics = analysed
            .Select(static (analysed, _) => analysed.GpuDiagnostics)
            .WithTrackingName(Steps.GpuDiagnostics);
        context.RegisterSourceOutput(gpuDiagnostics.Combine(gpuReference).Combine(context.CompilationProvider), static (output, pair) =>
        {
            if (pair.Left.Right)
            {
                foreach (var diagnostic in pair.Left.Left)
                {
                    output.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Right));
                }
            }
        });
    }
}
