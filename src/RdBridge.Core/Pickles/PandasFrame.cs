namespace RdBridge.Pickles;

/// <summary>One column (or index) of a pandas object, typed by its dtype.</summary>
public abstract record PandasColumn
{
    public abstract int Count { get; }
    public abstract string Dtype { get; }
}

public sealed record FloatColumn(IReadOnlyList<double> Values) : PandasColumn
{
    public override int Count => Values.Count;
    public override string Dtype => "float64";
}

public sealed record IntColumn(IReadOnlyList<long> Values) : PandasColumn
{
    public override int Count => Values.Count;
    public override string Dtype => "int64";
}

public sealed record BoolColumn(IReadOnlyList<bool> Values) : PandasColumn
{
    public override int Count => Values.Count;
    public override string Dtype => "bool";
}

/// <summary>datetime64 values as UTC-less <see cref="DateTime"/>s; NaT is null.</summary>
public sealed record DateTimeColumn(IReadOnlyList<DateTime?> Values) : PandasColumn
{
    public override int Count => Values.Count;
    public override string Dtype => "datetime64[ns]";
}

/// <summary>An object column: strings, numbers, booleans or None.</summary>
public sealed record ObjectColumn(IReadOnlyList<object?> Values) : PandasColumn
{
    public override int Count => Values.Count;
    public override string Dtype => "object";
}

public sealed record PandasIndex(string? Name, PandasColumn Values);

/// <summary>A pandas DataFrame read from a pickle: its row index, its column names in order and each column.</summary>
public sealed record PandasFrame(PandasIndex Index, IReadOnlyList<string> Columns,
    IReadOnlyDictionary<string, PandasColumn> Data)
{
    public int RowCount => Index.Values.Count;
}

/// <summary>A pandas Series read from a pickle.</summary>
public sealed record PandasSeries(string? Name, PandasIndex Index, PandasColumn Values);
