using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NigGen.Serving.Batching;
using NigGen.Serving.Hosting;
using OpenTelemetry.Metrics;

namespace NigGen.Serving;

/// <summary>
/// Serves generated networks on the Open Inference Protocol's REST API (kserve docs/predict-api/v2), with dynamic
/// batching, Prometheus metrics at /metrics, an optional API key and graceful shutdown.
/// </summary>
/// <example>
/// <code>
/// var app = InferenceServer.Create([new ServedModel(RegulatoryNet.Load("weights.safetensors"))], new ServingOptions());
/// await app.RunAsync();   // http://127.0.0.1:8080/v2/models/RegulatoryNet/infer
/// </code>
/// </example>
public static class InferenceServer
{
    /// <summary>Where the server listens unless told otherwise: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// A ready-to-run application on ASP.NET Core's slim builder (Kestrel over plain HTTP, no reflection):
    /// the models, the endpoints, JSON console logs at <paramref name="minimumLogLevel"/> (or <paramref name="configureLogging"/>'s
    /// providers), listening on <paramref name="urls"/> (default <see cref="DefaultUrl"/>).
    /// </summary>
    public static WebApplication Create(IEnumerable<ServedModel> models, ServingOptions options, IReadOnlyList<string>? urls = null,
        LogLevel minimumLogLevel = LogLevel.Information, Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls([.. urls is { Count: > 0 } ? urls : [DefaultUrl]]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(minimumLogLevel);
        // ASP.NET Core's own per-request lines would double the server's; its warnings and errors still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        if (configureLogging is null)
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.UseUtcTimestamp = true;
            });
        }
        else
        {
            configureLogging(builder.Logging);
        }

        builder.Services.AddOpenInferenceProtocol(models, options);
        var app = builder.Build();
        app.MapOpenInferenceProtocol();
        return app;
    }

    /// <summary>Registers the models, the dynamic batcher and the metrics (for an application built some other way).</summary>
    public static IServiceCollection AddOpenInferenceProtocol(this IServiceCollection services, IEnumerable<ServedModel> models, ServingOptions options)
    {
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(new ModelRepository(models.ToArray()));
        services.AddSingleton<ServingMetrics>();
        services.AddSingleton<DynamicBatcher>();
        services.AddSingleton<OpenInferenceEndpoints>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServingMetrics.MeterName)
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Adds the API key guard and the protocol's error objects, maps the /v2 endpoints and /metrics.</summary>
    public static WebApplication MapOpenInferenceProtocol(this WebApplication app)
    {
        var endpoints = app.Services.GetRequiredService<OpenInferenceEndpoints>();
        var repository = app.Services.GetRequiredService<ModelRepository>();
        var options = app.Services.GetRequiredService<ServingOptions>();
        var logger = app.Services.GetRequiredService<ILogger<OpenInferenceEndpoints>>();

        // Resolve the batcher now: its thread starts with the application, not with the first request.
        app.Services.GetRequiredService<DynamicBatcher>();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() => Log.Serving(logger, repository.Names, options.MaxBatchSize,
            options.MaxQueueDelay.TotalMilliseconds, options.MaxQueuedRequests, string.IsNullOrEmpty(options.ApiKey) ? "off" : "required"));
        lifetime.ApplicationStopping.Register(() =>
        {
            // Kestrel stops accepting connections and waits for the requests in flight; readiness fails meanwhile.
            repository.Ready = false;
            Log.Draining(logger);
        });

        app.Use(endpoints.Guard);
        app.UseRouting();
        endpoints.Map(app);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
