package org.convkit.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table: columns sized to their widest cell; numeric-looking cells right-aligned. */
final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    Table(String... header) {
        this.columns = header.length;
        rows.add(header);
    }

    void row(String... cells) {
        if (cells.length != columns) {
            throw new IllegalArgumentException("table: " + cells.length + " cells for " + columns + " columns");
        }
        rows.add(cells);
    }

    void print(PrintStream out) {
        int[] width = new int[columns];
        for (String[] r : rows) {
            for (int i = 0; i < columns; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (int ri = 0; ri < rows.size(); ri++) {
            String[] r = rows.get(ri);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                boolean right = ri > 0 && isNumeric(r[i]);
                String pad = " ".repeat(width[i] - r[i].length());
                sb.append(right ? pad + r[i] : r[i] + (i == columns - 1 ? "" : pad));
                if (i < columns - 1) {
                    sb.append("  ");
                }
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    private static boolean isNumeric(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> Character.isDigit(c) || c == ',' || c == '.' || c == '-' || c == 'e');
    }
}
