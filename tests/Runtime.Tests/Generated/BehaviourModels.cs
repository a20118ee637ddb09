namespace CnnGen.Runtime.Tests.Generated;

// Small models for the behaviour tests (dropout semantics): their output or input gradient exposes the dropout mask.

/// <summary>The output is the dropout of the input: its zero pattern is the element mask.</summary>
[Model]
[Input(4, 16, 16)]
[Dropout(0.25)]
public partial class DropoutOnlyModel { }

/// <summary>The output is the channel dropout of the input.</summary>
[Model]
[Input(8, 5, 7)]
[Dropout2d(0.4)]
public partial class Dropout2dOnlyModel { }

/// <summary>Dropout2d first: the input gradient's zero channels are the mask the backward pass used.</summary>
[Model]
[Input(4, 6, 6)]
[Dropout2d(0.5)]
[Conv2d(4, 3, 3)]
[Tanh]
[Flatten]
[Linear(48, 5)]
public partial class Dropout2dFirstModel { }

/// <summary>Dropout first: the input gradient's zeros are the element mask the backward pass used.</summary>
[Model]
[Input(3, 5, 5)]
[Dropout(0.5)]
[Conv2d(3, 2, 3)]
[Tanh]
[Flatten]
[Linear(18, 4)]
public partial class DropoutFirstModel { }
