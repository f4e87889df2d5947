package org.convkit.memory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Offsets in one arena for tensors with known lifetimes, assigned greedily: each tensor is placed
 * where it overlaps no tensor already placed whose lifetime intersects its own. Three orders are
 * tried: by size (largest first), by breadth (the busiest step's tensors first, largest first,
 * then the next busiest step's, as in TFLite's planners) and by area (size times lifetime, so that
 * long-lived tensors settle at the bottom, which suits training, where forward activations live
 * through the whole backward pass); each with two gap rules, first fit (the lowest offset) and
 * best fit (the smallest gap that holds it, else the end). The smallest arena is kept. Tensors that never live at the same time share bytes. The arena is at least the lower bound (the largest sum of tensors alive
 * at one step) and, with fragmentation and alignment, usually a little more.
 */
public final class ArenaPlan {
    /** A tensor and where it lives in the arena. */
    public record Placement(TensorLife tensor, long offset) {
        public long end() {
            return offset + tensor.bytes();
        }
    }

    private final Map<String, Placement> placements;
    private final long arenaBytes;
    private final long alignment;

    private ArenaPlan(Map<String, Placement> placements, long arenaBytes, long alignment) {
        this.placements = placements;
        this.arenaBytes = arenaBytes;
        this.alignment = alignment;
    }

    /** Plans the tensors; every offset is a multiple of {@code alignment}. */
    public static ArenaPlan greedyBySize(List<TensorLife> tensors, long alignment) {
        if (alignment < 1 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("arena plan: alignment must be a power of two, got " + alignment);
        }
        List<TensorLife> bySize = new ArrayList<>(tensors);
        bySize.sort(Comparator.comparingLong(TensorLife::bytes).reversed().thenComparingInt(TensorLife::first));
        List<TensorLife> byBreadth = byBreadth(tensors);
        List<TensorLife> byArea = new ArrayList<>(tensors);
        byArea.sort(Comparator.comparingDouble((TensorLife t) -> (double) t.bytes() * (t.last() - t.first() + 1)).reversed()
                .thenComparingInt(TensorLife::first));
        ArenaPlan best = null;
        for (List<TensorLife> order : List.of(bySize, byBreadth, byArea)) {
            for (boolean bestFit : new boolean[] {false, true}) {
                ArenaPlan p = place(tensors, order, alignment, bestFit);
                if (best == null || p.arenaBytes < best.arenaBytes) {
                    best = p;
                }
            }
        }
        return best;
    }

    /** The busiest step's tensors first (largest first), then the next busiest step's not yet listed, and so on. */
    private static List<TensorLife> byBreadth(List<TensorLife> tensors) {
        int steps = 0;
        for (TensorLife t : tensors) {
            steps = Math.max(steps, t.last() + 1);
        }
        long[] live = new long[steps];
        for (TensorLife t : tensors) {
            for (int s = t.first(); s <= t.last(); s++) {
                live[s] += t.bytes();
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            order.add(s);
        }
        order.sort(Comparator.comparingLong((Integer s) -> live[s]).reversed());
        List<TensorLife> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int s : order) {
            List<TensorLife> here = new ArrayList<>();
            for (TensorLife t : tensors) {
                if (t.aliveAt(s) && !seen.contains(t.name())) {
                    here.add(t);
                }
            }
            here.sort(Comparator.comparingLong(TensorLife::bytes).reversed());
            for (TensorLife t : here) {
                if (seen.add(t.name())) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    private static ArenaPlan place(List<TensorLife> tensors, List<TensorLife> order, long alignment, boolean bestFit) {
        List<Placement> placed = new ArrayList<>();
        Map<String, Placement> byName = new LinkedHashMap<>();
        long arena = 0;
        for (TensorLife t : order) {
            if (byName.containsKey(t.name())) {
                throw new IllegalArgumentException("arena plan: tensor '" + t.name() + "' appears twice");
            }
            List<Placement> conflicts = new ArrayList<>();
            for (Placement p : placed) {
                if (p.tensor().overlaps(t)) {
                    conflicts.add(p);
                }
            }
            conflicts.sort(Comparator.comparingLong(Placement::offset));
            // Walk the gaps between conflicting tensors, lowest first.
            long chosen = -1;
            long chosenGap = Long.MAX_VALUE;
            long cursor = 0;
            for (Placement p : conflicts) {
                long gap = p.offset() - cursor;
                if (gap >= t.bytes() && (!bestFit || gap < chosenGap)) {
                    chosen = cursor;
                    chosenGap = gap;
                    if (!bestFit) {
                        break;
                    }
                }
                cursor = Math.max(cursor, alignUp(p.end(), alignment));
            }
            long offset = chosen >= 0 ? chosen : cursor;
            Placement mine = new Placement(t, offset);
            placed.add(mine);
            byName.put(t.name(), mine);
            arena = Math.max(arena, mine.end());
        }
        Map<String, Placement> inOrder = new LinkedHashMap<>();
        for (TensorLife t : tensors) {
            inOrder.put(t.name(), byName.get(t.name()));
        }
        return new ArenaPlan(inOrder, arena, alignment);
    }

    static long alignUp(long v, long alignment) {
        return (v + alignment - 1) & -alignment;
    }

    /** Bytes of the arena: the end of the highest placement. */
    public long arenaBytes() {
        return arenaBytes;
    }

    public long alignment() {
        return alignment;
    }

    /** Offset of a tensor. */
    public long offset(String name) {
        Placement p = placements.get(name);
        if (p == null) {
            throw new IllegalArgumentException("arena plan: no tensor '" + name + "'");
        }
        return p.offset();
    }

    /** Every placement, in the order the tensors were given. */
    public List<Placement> placements() {
        return List.copyOf(placements.values());
    }

    /**
     * Checks the plan: aligned offsets, and no two tensors alive at the same step sharing a byte.
     *
     * @throws IllegalStateException naming the two tensors if the plan is wrong
     */
    public void verify() {
        List<Placement> ps = placements();
        for (int i = 0; i < ps.size(); i++) {
            Placement a = ps.get(i);
            if (a.offset() % alignment != 0 || a.end() > arenaBytes) {
                throw new IllegalStateException("arena plan: " + a + " is misaligned or outside the arena");
            }
            for (int j = i + 1; j < ps.size(); j++) {
                Placement b = ps.get(j);
                if (a.tensor().overlaps(b.tensor()) && a.offset() < b.end() && b.offset() < a.end()) {
                    throw new IllegalStateException("arena plan: " + a.tensor().name() + " and " + b.tensor().name()
                            + " are alive together and share bytes");
                }
            }
        }
    }
}
