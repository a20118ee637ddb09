using System;

namespace CnnGen.Tool;

/// <summary>An ONNX graph the importer cannot turn into a CnnGen model; the message names the node (name, op type) and why.</summary>
internal sealed class ImportException : Exception
{
    public ImportException(string message) : base(message) { }

    public static ImportException AtNode(Onnx.NodeProto node, string why) =>
        new($"node '{(node.Name.Length > 0 ? node.Name : node.Output.Count > 0 ? node.Output[0] : "?")}' ({node.OpType}): {why}");
}
