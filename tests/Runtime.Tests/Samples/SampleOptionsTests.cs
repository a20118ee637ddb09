using System.IO;
using CnnGen.Samples;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>The training samples' shared command line: every bad option is one line naming it and its value, exit code 2.</summary>
public class SampleOptionsTests
{
    private static (SampleOptions? Options, int Code, string Err) Parse(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var defaults = new SampleOptions { Epochs = 1, BatchSize = 8, LearningRate = 1e-3f };
        SampleOptions? o = SampleOptions.Parse(args, "Sample", "test", defaults, stdout, stderr, out int code, new SampleOptions.Extra("--mode", "x", TakesValue: true));
        return (o, code, stderr.ToString());
    }

    [Theory]
    [InlineData("--epochs abc", "Sample: --epochs takes a whole number, not 'abc'.")]
    [InlineData("--epochs 99999999999", "Sample: --epochs takes a whole number, not '99999999999'.")]
    [InlineData("--epochs 0", "Sample: --epochs must be at least 1.")]
    [InlineData("--batch-size=-3", "Sample: --batch-size must be at least 1.")]
    [InlineData("--lr x", "Sample: --lr takes a number, not 'x'.")]
    [InlineData("--lr -1", "Sample: --lr must be a positive number.")]
    [InlineData("--lr Infinity", "Sample: --lr must be a positive number.")]
    [InlineData("--seed -1", "Sample: --seed takes a whole number from 0 to 18446744073709551615, not '-1'.")]
    [InlineData("--threads", "Sample: --threads needs a value.")]
    [InlineData("--mode", "Sample: --mode needs a value.")]
    [InlineData("--frob", "Sample: Unknown option --frob.")]
    [InlineData("--evaluate", "Sample: --evaluate needs a value.")]
    public void Bad_options_are_one_line_naming_the_option_and_exit_code_2(string args, string expected)
    {
        var (o, code, err) = Parse(args.Split(' '));
        Assert.Null(o);
        Assert.Equal(SampleOptions.ErrorExit, code);
        Assert.Equal(2, code);
        Assert.Equal(expected + " (see --help)\n", err.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Good_options_parse()
    {
        var (o, code, err) = Parse("--epochs", "3", "--lr=0.5", "--seed", "7", "--mode", "fast");
        Assert.NotNull(o);
        Assert.Equal((0, ""), (code, err));
        Assert.Equal((3, 0.5f, 7UL, "fast"), (o!.Epochs, o.LearningRate, o.Seed, o.Values["--mode"]));
        Assert.Null(o.Evaluate);
        Assert.Equal("tuned.safetensors", Parse("--evaluate", "tuned.safetensors").Options!.Evaluate);
    }
}
