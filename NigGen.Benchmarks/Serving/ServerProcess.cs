using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NigGen.Serving;

namespace NigGen.Benchmarks.Serving;

/// <summary>
/// The server under load, in a process of its own (this program run with <c>serve-load --serve</c>), so that its core
/// time and the clients' are counted apart: a deployment's server process does not pay for its clients' work.
/// Both still share this machine's cores, as the issue's target asks.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private const string ListeningPrefix = "listening ";
    private readonly Process _process;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Core time (user and system) the server process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The thread pool's spin limit, set to 0 for the server process unless the environment says otherwise.</summary>
    public const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>Starts the server process with dynamic batching of up to <paramref name="maxBatchSize"/> samples and the given queue delay.</summary>
    public static ServerProcess Start(int maxBatchSize, double delayMs)
    {
        string program = Environment.ProcessPath ?? throw new InvalidOperationException("the load generator cannot find its own executable to start the server process.");
        var start = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };

        // As deploy/ runs the server: idle thread-pool workers sleep at once instead of spinning for work, so the
        // cores go to the batches (docs/SERVING.md, Throughput). A value already in the environment wins.
        if (Environment.GetEnvironmentVariable(SpinLimitVariable) is null)
        {
            start.Environment[SpinLimitVariable] = "0";
        }
        if (Path.GetFileNameWithoutExtension(program) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location); // run as `dotnet NigGen.Benchmarks.dll`
        }

        foreach (string argument in new[] { "serve-load", "--serve", maxBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}.");
        try
        {
            var line = process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is not { } text || !text.StartsWith(ListeningPrefix, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the server process did not report its address within 60 s (it wrote '{(line.IsCompletedSuccessfully ? line.Result : "nothing")}').");
            }

            return new ServerProcess(process, new Uri(text[ListeningPrefix.Length..]));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The server process's side (<c>serve-load --serve BATCH DELAY_MS</c>): serves the load generator's model on a free
    /// loopback port, writes its address, and stops gracefully when its standard input closes (the load generator
    /// closing it, or exiting).
    /// </summary>
    public static async Task<int> ServeAsync(LoadNet network, float[] baseline, int maxBatchSize, double delayMs)
    {
        var serving = new ServingOptions { MaxBatchSize = maxBatchSize, MaxQueueDelay = TimeSpan.FromMilliseconds(delayMs), RequestLogLevel = LogLevel.Debug };
        var model = new ServedModel(network, baseline, name: ServeLoad.ModelName, defaultOptions: new AttributionOptions { Steps = ServeLoad.Steps });
        await using var app = InferenceServer.Create([model], serving, ["http://127.0.0.1:0"], LogLevel.Warning, _ => { });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Console.WriteLine(ListeningPrefix + address);
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    /// <summary>Closes the server's standard input (it stops gracefully); kills it if it has not exited within 30 s.</summary>
    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
