using System.Collections.Generic;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Analysis
{
    /// <summary>
    /// The last checks of a bound model, and the full list of its CNN diagnostics in report order. Shared by the two
    /// entry points: the generator (which decides from the result whether to emit) and <see cref="CnnAnalyzer"/> (which
    /// reports the list live in editors and in builds). Nothing here touches Roslyn symbols.
    /// </summary>
    internal static class ModelChecks
    {
        /// <summary>
        /// The model after the unsafe-code and buffer-size checks (not <c>Ok</c> when either fails), every diagnostic of it,
        /// and its lowering (null unless the model is Ok): the size check reads the lowering's final memory plan.
        /// </summary>
        public static (ShapedModel Model, List<DiagnosticInfo> Diagnostics, Lowered? Lowered) Check(ShapedModel model, bool allowUnsafe)
        {
            var list = new List<DiagnosticInfo>();
            if (!allowUnsafe && model.Ok)
            {
                list.Add(DiagnosticInfo.Create(Diagnostics.UnsafeNotAllowed, model.Model.Location, model.Model.ClassName));
                model = model with { Ok = false };
            }
            list.AddRange(model.Diagnostics);
            var lowered = model.Ok ? Lowering.Lower(model) : null;
            if (lowered is not null && lowered.Memory.TooLarge(model) is { } big)
            {
                list.Add(DiagnosticInfo.Create(Diagnostics.TooLarge, big.Where, big.What, big.Floats.ToString("N0", CultureInfo.InvariantCulture)));
                model = model with { Ok = false };
                lowered = null;
            }
            return (model, list, lowered);
        }
    }
}
