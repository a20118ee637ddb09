using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("CnnGen.Training.Tests")]
