using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NigGen;
using NigGen.Serving.Batching;
using NigGen.Serving.Hosting;

namespace NigGen.Serving.Tests;

/// <summary>A small network with two attribute layers (a convolution and a dense layer).</summary>
[Network]
[Input(2, 16)]
public sealed partial class TinyNet
{
    [Conv(4, Kernel = 3, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)] Layer pool1;
    [Flatten] Layer flat;
    [Dense(8, Activation = Activation.Relu), AttributeLayer] Layer fc1;
    [Dense(3)] Layer head;
}

/// <summary>A network without attribute layers: only <c>output</c> is served.</summary>
[Network]
[Input(5)]
public sealed partial class PlainNet
{
    [Dense(4, Activation = Activation.Relu)] Layer fc1;
    [Dense(2)] Layer fc2;
}

/// <summary>A real Kestrel server on a loopback port chosen by the system, and a client for it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public static readonly TinyNet Tiny = TinyNet.CreateRandom(seed: 11);
    public static readonly PlainNet Plain = PlainNet.CreateRandom(seed: 5);

    private TestServer(WebApplication app, Uri address, CapturingLoggerProvider logs)
    {
        App = app;
        Address = address;
        Logs = logs;
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public CapturingLoggerProvider Logs { get; }

    internal DynamicBatcher Batcher => App.Services.GetRequiredService<DynamicBatcher>();

    internal ModelRepository Repository => App.Services.GetRequiredService<ModelRepository>();

    /// <summary>TinyNet (baseline 0.25 everywhere) and PlainNet, on 127.0.0.1:0.</summary>
    public static Task<TestServer> StartAsync(ServingOptions? options = null, IEnumerable<ServedModel>? models = null)
    {
        models ??= [TinyModel(), new ServedModel(Plain)];
        return StartCoreAsync(options ?? new ServingOptions(), models);
    }

    public static ServedModel TinyModel() => new(Tiny, Enumerable.Repeat(0.25f, TinyNet.InputLength).ToArray(), defaultOptions: new AttributionOptions { Steps = 16 });

    private static async Task<TestServer> StartCoreAsync(ServingOptions options, IEnumerable<ServedModel> models)
    {
        var logs = new CapturingLoggerProvider();
        var app = InferenceServer.Create(models, options, ["http://127.0.0.1:0"], LogLevel.Information, logging => logging.AddProvider(logs));
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestServer(app, new Uri(address), logs);
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public async Task<(int Status, JsonNode? Body)> PostAsync(string path, string json)
    {
        using var response = await PostJsonAsync(path, json);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<(int Status, JsonNode? Body)> GetAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>Builds inference requests and reads responses.</summary>
public static class Requests
{
    public const string TinyInfer = "/v2/models/TinyNet/infer";

    /// <summary>Deterministic samples of TinyNet: n × InputLength values in [−1, 1].</summary>
    public static float[] Samples(int n, int seed)
    {
        var random = new Random(seed);
        var values = new float[n * TinyNet.InputLength];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    public static string Json(float[] inputs, string[]? outputs = null, string? parameters = null, string? extraInputs = null, string? id = null)
    {
        int n = inputs.Length / TinyNet.InputLength;
        var text = new StringBuilder("{");
        if (id is not null)
        {
            text.Append($"\"id\":\"{id}\",");
        }

        if (parameters is not null)
        {
            text.Append($"\"parameters\":{parameters},");
        }

        text.Append($"\"inputs\":[{Tensor("input", [n, 2, 16], inputs)}");
        if (extraInputs is not null)
        {
            text.Append(',').Append(extraInputs);
        }

        text.Append(']');
        if (outputs is not null)
        {
            text.Append(",\"outputs\":[").Append(string.Join(",", outputs.Select(o => $"{{\"name\":\"{o}\"}}"))).Append(']');
        }

        return text.Append('}').ToString();
    }

    public static string Tensor(string name, int[] shape, float[] data, string datatype = "FP32") =>
        $"{{\"name\":\"{name}\",\"shape\":[{string.Join(",", shape)}],\"datatype\":\"{datatype}\",\"data\":[{string.Join(",", data.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}]}}";

    public static float[] Output(JsonNode body, string name)
    {
        var output = body["outputs"]!.AsArray().Single(o => (string)o!["name"]! == name)!;
        return output["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
    }

    public static int[] Shape(JsonNode body, string name) =>
        body["outputs"]!.AsArray().Single(o => (string)o!["name"]! == name)!["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();

    /// <summary>Bitwise equality, with the first difference in the message.</summary>
    public static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Xunit.Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Xunit.Assert.Fail($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} bit for bit");
            }
        }
    }
}

/// <summary>Keeps every log line written, with its level and structured state.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, logLevel, eventId.Id, formatter(state, exception)));
    }
}
