using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>Health, metadata and routing endpoints of the Open Inference Protocol, on a real Kestrel server.</summary>
public sealed class EndpointTests
{
    [Fact]
    public async Task HealthEndpointsAnswer200WithTheirBodies()
    {
        await using var server = await TestServer.StartAsync();
        var (status, body) = await server.GetAsync("/v2/health/live");
        Assert.Equal(200, status);
        Assert.Equal("""{"live":true}""", body!.ToJsonString());
        (status, body) = await server.GetAsync("/v2/health/ready");
        Assert.Equal(200, status);
        Assert.Equal("""{"ready":true}""", body!.ToJsonString());
        (status, body) = await server.GetAsync("/v2/models/TinyNet/ready");
        Assert.Equal(200, status);
        Assert.Equal("""{"name":"TinyNet","ready":true}""", body!.ToJsonString());
        (status, _) = await server.GetAsync("/v2/models/TinyNet/versions/1/ready");
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task ServerMetadataNamesTheServerAndTheBinaryExtension()
    {
        await using var server = await TestServer.StartAsync();
        foreach (string path in new[] { "/v2", "/v2/" })
        {
            var (status, body) = await server.GetAsync(path);
            Assert.Equal(200, status);
            Assert.Equal("niggen", (string)body!["name"]!);
            Assert.False(string.IsNullOrEmpty((string)body["version"]!));
            Assert.Equal(["binary_tensor_data"], body["extensions"]!.AsArray().Select(e => (string)e!).ToArray());
        }
    }

    [Fact]
    public async Task ModelMetadataListsTensorsAndAttributeLayers()
    {
        await using var server = await TestServer.StartAsync();
        foreach (string path in new[] { "/v2/models/TinyNet", "/v2/models/TinyNet/versions/1" })
        {
            var (status, body) = await server.GetAsync(path);
            Assert.Equal(200, status);
            Assert.Equal("TinyNet", (string)body!["name"]!);
            Assert.Equal("""["1"]""", body["versions"]!.ToJsonString());
            Assert.Equal("niggen", (string)body["platform"]!);
            Assert.Equal(
                """[{"name":"input","datatype":"FP32","shape":[-1,2,16]},{"name":"baseline","datatype":"FP32","shape":[-1,2,16]},{"name":"target","datatype":"INT32","shape":[-1]}]""",
                body["inputs"]!.ToJsonString());
            // conv1: 4 filters × 16 positions = 64 neurons at 0; fc1: 8 neurons at 64.
            Assert.Equal(
                """[{"name":"output","datatype":"FP32","shape":[-1,3]},{"name":"importance","datatype":"FP32","shape":[-1,72],"parameters":{"layers":"conv1,fc1","conv1.offset":0,"conv1.length":64,"conv1.shape":"[4, 16]","conv1.pre_activation":false,"fc1.offset":64,"fc1.length":8,"fc1.shape":"[8]","fc1.pre_activation":false}},{"name":"delta","datatype":"FP32","shape":[-1]}]""",
                body["outputs"]!.ToJsonString());
            Assert.Equal(16, (int)body["parameters"]!["default_steps"]!);
            Assert.Equal("riemann_trapezoid", (string)body["parameters"]!["default_rule"]!);
        }

        var (plainStatus, plain) = await server.GetAsync("/v2/models/PlainNet");
        Assert.Equal(200, plainStatus);
        Assert.Equal("""[{"name":"output","datatype":"FP32","shape":[-1,2]}]""", plain!["outputs"]!.ToJsonString());
    }

    [Theory]
    [InlineData("/v2/models/Nope", "unknown model 'Nope'; this server serves PlainNet, TinyNet.")]
    [InlineData("/v2/models/Nope/ready", "unknown model 'Nope'; this server serves PlainNet, TinyNet.")]
    [InlineData("/v2/models/TinyNet/versions/2", "model 'TinyNet' has no version '2'; it serves version '1'.")]
    [InlineData("/v2/models/TinyNet/versions/2/ready", "model 'TinyNet' has no version '2'; it serves version '1'.")]
    [InlineData("/v2/nothing/here", "no endpoint GET /v2/nothing/here; the Open Inference Protocol's endpoints are under /v2 (health/live, health/ready, models/{name}, models/{name}/ready, models/{name}/infer) and metrics at /metrics.")]
    public async Task UnknownModelsVersionsAndPathsAre404ErrorObjects(string path, string error)
    {
        await using var server = await TestServer.StartAsync();
        var (status, body) = await server.GetAsync(path);
        Assert.Equal(404, status);
        Assert.Equal(error, (string)body!["error"]!);
        Assert.Single(body.AsObject());
    }

    [Fact]
    public async Task InferOnUnknownModelOrVersionIs404AndWrongMethodIs405()
    {
        await using var server = await TestServer.StartAsync();
        string json = Requests.Json(Requests.Samples(1, 1));
        var (status, body) = await server.PostAsync("/v2/models/Nope/infer", json);
        Assert.Equal(404, status);
        Assert.Equal("unknown model 'Nope'; this server serves PlainNet, TinyNet.", (string)body!["error"]!);
        (status, body) = await server.PostAsync("/v2/models/TinyNet/versions/7/infer", json);
        Assert.Equal(404, status);
        Assert.Equal("model 'TinyNet' has no version '7'; it serves version '1'.", (string)body!["error"]!);
        (status, body) = await server.GetAsync(Requests.TinyInfer);
        Assert.Equal(405, status);
        Assert.Equal("GET /v2/models/TinyNet/infer is not allowed on this endpoint.", (string)body!["error"]!);
    }
}
