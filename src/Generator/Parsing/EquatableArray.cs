using System;
using System.Collections;
using System.Collections.Generic;

namespace CnnGen.Generator.Parsing
{
    /// <summary>
    /// An immutable array with structural equality. Pipeline models must compare by value so that
    /// Roslyn's incremental cache can tell an unchanged model from a changed one.
    /// </summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        public static readonly EquatableArray<T> Empty = new EquatableArray<T>(Array.Empty<T>());

        private readonly T[]? _items;

        public EquatableArray(T[] items) { _items = items; }

        public EquatableArray(IEnumerable<T> items) { _items = new List<T>(items).ToArray(); }

        private T[] Items => _items ?? Array.Empty<T>();

        public int Count => Items.Length;

        public T[] ToArray() => (T[])Items.Clone();

        public T this[int index] => Items[index];

        public bool Equals(EquatableArray<T> other)
        {
            T[] a = Items, b = other.Items;
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
            {
                if (!a[i].Equals(b[i])) return false;
            }
            return true;
        }

        public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

        public override int GetHashCode()
        {
            unchecked
            {
                int hash = 17;
                foreach (T item in Items) hash = hash * 31 + item.GetHashCode();
                return hash;
            }
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => Items.GetEnumerator();
    }
}
