using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Parsing;

namespace CnnGen.Generator.Shapes
{
    /// <summary>
    /// Replaces the composite layers of a model (<c>[Residual]</c>, <c>[Sequential]</c>, <c>[SqueezeExcitation]</c>) by the
    /// layers they stand for, in execution order, with the structural markers shape inference and the emitters follow:
    /// <code>
    /// Residual:          BranchBegin, body…, ShortcutBegin, shortcut…, Add, [ReLU], BlockEnd(module)
    /// SqueezeExcitation: BranchBegin, AdaptiveAvgPool2d(1), Conv2d 1×1 (fc1), activation (ReLU), Conv2d 1×1 (fc2), gate (Sigmoid), ShortcutBegin, Scale, BlockEnd
    /// Sequential:        the block's layers, inline
    /// </code>
    /// Every expanded layer gets its full safetensors key prefix (<c>layer2.0.downsample.0</c>). A pure function of the
    /// model and the [Block] specs; a model without composite layers is returned unchanged.
    /// </summary>
    internal static class BlockExpansion
    {
        /// <summary>
        /// The most layers a model may have once its blocks are expanded, structural markers included (docs/diagnostics.md,
        /// CNN0050). Blocks that repeat each other multiply: ten nested blocks that each use the next twice are 2^10 layers.
        /// The count is made before anything is expanded, so such a model is refused at once.
        /// </summary>
        public const int MaxLayers = 2000;

        public static ModelSpec Expand(ModelSpec model, ImmutableArray<BlockSpec> blocks)
        {
            var byName = new Dictionary<string, BlockSpec>();
            foreach (var b in blocks)
            {
                if (!byName.ContainsKey(b.FullName)) byName[b.FullName] = b;
            }
            var counter = new LayerCounter(byName);
            long total = 0;
            foreach (var l in model.Layers)
            {
                total += counter.Count(l);
                if (total <= MaxLayers) continue;
                string key = l.Name ?? l.Position.ToString(CultureInfo.InvariantCulture);
                var tooMany = DiagnosticInfo.Create(Diagnostics.TooManyLayers, l.Location, $"{l.Kind} '{key}'", MaxLayers);
                return model with
                {
                    Layers = EquatableArray<LayerSpec>.Empty,
                    Diagnostics = new EquatableArray<DiagnosticInfo>(model.Diagnostics.Concat(new[] { tooMany }).ToArray()),
                };
            }
            if (!model.Layers.Any(IsComposite)) return model;
            var diags = new List<DiagnosticInfo>(model.Diagnostics);
            var output = new List<LayerSpec>();
            foreach (var l in model.Layers)
            {
                try
                {
                    Expand(l, l.Name ?? l.Position.ToString(CultureInfo.InvariantCulture), new List<string>(), byName, diags, output);
                }
                catch (ExpansionTooLarge)
                {
                    // Only a model with errors gets here (the count above is exact for the others): a cycle or unusable
                    // blocks inside blocks that repeat each other. Stop rather than enumerate them all.
                    var tooMany = DiagnosticInfo.Create(Diagnostics.TooManyLayers, l.Location, $"{l.Kind} '{l.Name ?? l.Position.ToString(CultureInfo.InvariantCulture)}'", MaxLayers);
                    return model with
                    {
                        Layers = EquatableArray<LayerSpec>.Empty,
                        Diagnostics = new EquatableArray<DiagnosticInfo>(diags.Distinct().Take(100).Concat(new[] { tooMany }).ToArray()),
                    };
                }
            }
            return model with
            {
                Layers = new EquatableArray<LayerSpec>(output.ToArray()),
                Diagnostics = new EquatableArray<DiagnosticInfo>(diags.Distinct().ToArray()),
            };
        }

        public static bool IsComposite(LayerSpec l) =>
            l.Kind == LayerKind.Residual || l.Kind == LayerKind.Sequential || l.Kind == LayerKind.SqueezeExcitation;

        private static string Child(string prefix, LayerSpec c) => prefix + "." + (c.Name ?? c.Position.ToString(CultureInfo.InvariantCulture));

        private static void Expand(LayerSpec l, string key, List<string> chain, Dictionary<string, BlockSpec> blocks,
            List<DiagnosticInfo> diags, List<LayerSpec> output)
        {
            // Every expansion that is not cut short adds a layer or a diagnostic, so this bounds the work however blocks nest.
            if (output.Count + diags.Count > 2 * MaxLayers) throw new ExpansionTooLarge();
            // Unreadable arguments stay as they are: shape inference reports CNN0006 for them.
            if (!IsComposite(l) || !l.ArgumentsOk)
            {
                output.Add(l with { KeyPrefix = key });
                return;
            }
            string what = $"{l.Kind} '{key}'";
            var badName = UserStrings.CheckKeyPath(l.Name, "Name", $"{l.Kind} '{l.Position}'", l.Location)
                ?? (l.Kind == LayerKind.Residual ? UserStrings.CheckKeyPath(l.ShortcutName, "ShortcutName", what, l.Location) : null);
            if (badName != null)
            {
                diags.Add(badName);
                return;
            }
            switch (l.Kind)
            {
                case LayerKind.Sequential:
                {
                    var block = Resolve(l.Block!, l, what, chain, blocks, diags);
                    if (block is null) return;
                    chain.Add(block.FullName);
                    foreach (var c in block.Layers) Expand(c, Child(key, c), chain, blocks, diags, output);
                    chain.RemoveAt(chain.Count - 1);
                    return;
                }
                case LayerKind.Residual:
                {
                    var body = Resolve(l.Block!, l, what, chain, blocks, diags);
                    var shortcut = l.Shortcut is null ? null : Resolve(l.Shortcut, l, what, chain, blocks, diags);
                    if (body is null || (l.Shortcut != null && shortcut is null)) return;
                    output.Add(Marker(LayerKind.BranchBegin, l, key));
                    chain.Add(body.FullName);
                    foreach (var c in body.Layers) Expand(c, Child(key, c), chain, blocks, diags, output);
                    chain.RemoveAt(chain.Count - 1);
                    output.Add(Marker(LayerKind.ShortcutBegin, l, key));
                    if (shortcut != null)
                    {
                        chain.Add(shortcut.FullName);
                        foreach (var c in shortcut.Layers) Expand(c, Child(key + "." + l.ShortcutName, c), chain, blocks, diags, output);
                        chain.RemoveAt(chain.Count - 1);
                    }
                    output.Add(Marker(LayerKind.Add, l, key));
                    if (l.ReLU) output.Add(new LayerSpec(LayerKind.ReLU, l.Position, l.Location) { KeyPrefix = key + ".relu" });
                    output.Add(Marker(LayerKind.BlockEnd, l, key) with { Block = body.ModuleName ?? body.DisplayName });
                    return;
                }
                case LayerKind.SqueezeExcitation:
                {
                    int channels = l.In, reduction = l.Out;
                    bool ok = true;
                    if (channels < 1)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidValue, l.Location, what, "channels", channels, "at least 1"));
                        ok = false;
                    }
                    if (reduction < 1)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidValue, l.Location, what, "reduction", reduction, "at least 1"));
                        ok = false;
                    }
                    if (l.Squeeze < 0)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.InvalidValue, l.Location, what, "SqueezeChannels", l.Squeeze, "at least 1"));
                        ok = false;
                    }
                    var inner = Activation(l, l.Activation ?? "relu", diags);
                    var gate = Activation(l, l.ScaleActivation ?? "sigmoid", diags);
                    if (inner is null || gate is null) ok = false;
                    if (ok && l.Squeeze == 0 && channels % reduction != 0)
                    {
                        diags.Add(DiagnosticInfo.Create(Diagnostics.ReductionDoesNotDivide, l.Location, what, reduction, channels));
                        ok = false;
                    }
                    if (!ok) return;
                    int squeeze = l.Squeeze > 0 ? l.Squeeze : channels / reduction;
                    LayerSpec Conv(int cin, int cout, string name) => new LayerSpec(LayerKind.Conv2d, l.Position, l.Location)
                    {
                        In = cin, Out = cout, KernelH = 1, KernelW = 1, KeyPrefix = key + "." + name,
                    };
                    output.Add(Marker(LayerKind.BranchBegin, l, key));
                    output.Add(new LayerSpec(LayerKind.AdaptiveAvgPool2d, l.Position, l.Location) { Out = 1, KeyPrefix = key + ".avgpool" });
                    output.Add(Conv(channels, squeeze, "fc1"));
                    if (inner!.Value.Kind is LayerKind innerKind)
                        output.Add(new LayerSpec(innerKind, l.Position, l.Location) { KeyPrefix = key + ".activation", Value = inner.Value.Value });
                    output.Add(Conv(squeeze, channels, "fc2"));
                    if (gate!.Value.Kind is LayerKind gateKind)
                        output.Add(new LayerSpec(gateKind, l.Position, l.Location) { KeyPrefix = key + ".scale_activation", Value = gate.Value.Value });
                    output.Add(Marker(LayerKind.ShortcutBegin, l, key));
                    output.Add(Marker(LayerKind.Scale, l, key));
                    output.Add(Marker(LayerKind.BlockEnd, l, key) with { Block = "SqueezeExcitation" });
                    return;
                }
            }
        }

        /// <summary>Thrown (and caught in <see cref="Expand(ModelSpec, ImmutableArray{BlockSpec})"/>) when expansion outgrows its bound.</summary>
        private sealed class ExpansionTooLarge : System.Exception
        {
        }

        /// <summary>
        /// Counts the layers a layer expands to without expanding it: each block's count is computed once (memoized), so
        /// the count is linear in the number of attributes however the blocks repeat each other. Saturates just past
        /// <see cref="MaxLayers"/>. Blocks that cannot be expanded (unknown, cyclic) count 0: expansion reports them.
        /// </summary>
        private sealed class LayerCounter
        {
            private readonly Dictionary<string, BlockSpec> _blocks;
            private readonly Dictionary<string, long> _counts = new Dictionary<string, long>();
            private readonly HashSet<string> _open = new HashSet<string>();

            public LayerCounter(Dictionary<string, BlockSpec> blocks) { _blocks = blocks; }

            public long Count(LayerSpec l)
            {
                if (!IsComposite(l) || !l.ArgumentsOk) return 1;
                switch (l.Kind)
                {
                    case LayerKind.Sequential:
                        return Block(l.Block);
                    case LayerKind.Residual:
                        // BranchBegin, body…, ShortcutBegin, shortcut…, Add, [ReLU], BlockEnd
                        return System.Math.Min(MaxLayers + 1L, Block(l.Block) + Block(l.Shortcut) + 4 + (l.ReLU ? 1 : 0));
                    default:
                        return 9; // SqueezeExcitation: BranchBegin, pool, fc1, ReLU, fc2, Sigmoid, ShortcutBegin, Scale, BlockEnd
                }
            }

            private long Block(string? name)
            {
                if (name is null || !_blocks.TryGetValue(name, out var block) || _open.Contains(name)) return 0;
                if (_counts.TryGetValue(name, out long known)) return known;
                _open.Add(name);
                long sum = 0;
                foreach (var c in block.Layers) sum = System.Math.Min(MaxLayers + 1L, sum + Count(c));
                _open.Remove(name);
                _counts[name] = sum;
                return sum;
            }
        }

        /// <summary>A squeeze-excitation activation by Keras' name, or null after reporting CNN0081.</summary>
        private static KerasNames.Activation? Activation(LayerSpec l, string name, List<DiagnosticInfo> diags)
        {
            if (KerasNames.TryActivation(name, out var a)) return a;
            diags.Add(DiagnosticInfo.Create(Diagnostics.UnknownActivation, l.Location, name, KerasNames.ActivationList));
            return null;
        }

        private static LayerSpec Marker(LayerKind kind, LayerSpec from, string key) =>
            new LayerSpec(kind, from.Position, from.Location) { KeyPrefix = key, Name = from.Name };

        /// <summary>The [Block] named <paramref name="name"/>, or null after reporting why it can't be used here.</summary>
        private static BlockSpec? Resolve(string name, LayerSpec use, string what, List<string> chain, Dictionary<string, BlockSpec> blocks, List<DiagnosticInfo> diags)
        {
            string shortName = name.StartsWith("global::", System.StringComparison.Ordinal) ? name.Substring("global::".Length) : name;
            if (!blocks.TryGetValue(name, out var block))
            {
                diags.Add(DiagnosticInfo.Create(Diagnostics.NotABlock, use.Location, what, shortName));
                return null;
            }
            if (chain.Contains(name))
            {
                var cycle = chain.Skip(chain.IndexOf(name)).Concat(new[] { name }).Select(n => blocks[n].DisplayName);
                diags.Add(DiagnosticInfo.Create(Diagnostics.BlockCycle, use.Location, what, block.DisplayName, string.Join(" → ", cycle)));
                return null;
            }
            if (block.Diagnostics.Count > 0)
            {
                diags.AddRange(block.Diagnostics);
                return null;
            }
            if (block.Layers.Count == 0)
            {
                diags.Add(DiagnosticInfo.Create(Diagnostics.EmptyBlock, use.Location, what, block.DisplayName));
                return null;
            }
            return block;
        }
    }
}
