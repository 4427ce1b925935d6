using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Google.Protobuf;
using NigGen.Weights;
using Onnx;

namespace NigGen.Benchmarks.Peers;

/// <summary>
/// Writes the benchmarked networks as ONNX models (opset 13) with OnnxSharp's protobuf types, reading every tensor
/// from the safetensors file NigGen saved: PyTorch layouts are ONNX's (Conv [out, in, kh, kw]; Gemm with transB = 1
/// takes nn.Linear's [out, in]).
/// </summary>
public static class OnnxModels
{
    public const string InputName = "input";
    public const string OutputName = "logits";
    private const int Opset = 13;
    private const long IrVersion = 8;

    public static byte[] Build(NetworkKind kind, byte[] safetensors)
    {
        var weights = SafetensorsFile.Read(new MemoryStream(safetensors, writable: false), "weights");
        var graph = new GraphBuilder(weights);
        switch (kind)
        {
            case NetworkKind.Mlp:
            case NetworkKind.Mlp64:
            case NetworkKind.Mlp1024:
                int width = kind switch { NetworkKind.Mlp64 => 64, NetworkKind.Mlp1024 => 1024, _ => 256 };
                graph.Input([784]);
                graph.Dense("fc1", 784, 256, relu: true);
                graph.Dense("fc2", 256, width, relu: true);
                graph.Dense("fc3", width, 10, relu: false);
                return graph.Build(kind.ToString(), 10);
            case NetworkKind.Cnn:
                graph.Input([1, 28, 28]);
                graph.Conv("conv1", 1, 16, 5, relu: true);
                graph.MaxPool(2);
                graph.Conv("conv2", 16, 32, 5, relu: true);
                graph.MaxPool(2);
                graph.Flatten();
                graph.Dense("fc1", 512, 128, relu: true);
                graph.Dense("fc2", 128, 10, relu: false);
                return graph.Build(kind.ToString(), 10);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private sealed class GraphBuilder(SafetensorsFile weights)
    {
        private readonly GraphProto _graph = new();
        private string _current = InputName;
        private int _nodes;

        public void Input(long[] sampleShape)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            foreach (long d in sampleShape)
            {
                shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            }

            _graph.Input.Add(new ValueInfoProto
            {
                Name = InputName,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            });
        }

        public void Dense(string name, int inFeatures, int outFeatures, bool relu)
        {
            string w = Initializer($"{name}.weight", [outFeatures, inFeatures]);
            string b = Initializer($"{name}.bias", [outFeatures]);
            var node = Node("Gemm", _current, w, b);
            node.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            if (relu)
            {
                Node("Relu", _current);
            }
        }

        public void Conv(string name, int inChannels, int outChannels, int kernel, bool relu)
        {
            string w = Initializer($"{name}.weight", [outChannels, inChannels, kernel, kernel]);
            string b = Initializer($"{name}.bias", [outChannels]);
            var node = Node("Conv", _current, w, b);
            node.Attribute.Add(Ints("kernel_shape", kernel, kernel));
            if (relu)
            {
                Node("Relu", _current);
            }
        }

        public void MaxPool(int size)
        {
            var node = Node("MaxPool", _current);
            node.Attribute.Add(Ints("kernel_shape", size, size));
            node.Attribute.Add(Ints("strides", size, size));
        }

        public void Flatten()
        {
            var node = Node("Flatten", _current);
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        }

        public byte[] Build(string name, int outputs)
        {
            // The last node's output is renamed to the graph output.
            var last = _graph.Node[^1];
            last.Output[0] = OutputName;
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = outputs });
            _graph.Output.Add(new ValueInfoProto
            {
                Name = OutputName,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            });
            _graph.Name = name;

            var model = new ModelProto { IrVersion = IrVersion, ProducerName = "NigGen.Benchmarks", Graph = _graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return model.ToByteArray();
        }

        private string Initializer(string name, int[] shape)
        {
            float[] data = weights.GetTensor(name, shape, fanIn: 0);
            var tensor = new TensorProto
            {
                Name = name,
                DataType = (int)TensorProto.Types.DataType.Float,
                RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())),
            };
            foreach (int d in shape)
            {
                tensor.Dims.Add(d);
            }

            _graph.Initializer.Add(tensor);
            return name;
        }

        private NodeProto Node(string op, params string[] inputs)
        {
            string output = $"t{_nodes}";
            var node = new NodeProto { OpType = op, Name = $"{op}_{_nodes}" };
            node.Input.Add(inputs);
            node.Output.Add(output);
            _graph.Node.Add(node);
            _nodes++;
            _current = output;
            return node;
        }

        private static AttributeProto Ints(string name, params long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.Add(values);
            return attribute;
        }
    }
}
