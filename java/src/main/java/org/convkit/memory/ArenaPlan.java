package org.convkit.memory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Offsets in one arena for tensors with known lifetimes, assigned greedily by size: largest
 * first, each at the lowest aligned offset where it overlaps no tensor already placed whose
 * lifetime intersects its own. Tensors that never live at the same time share bytes. The arena
 * is at least the lower bound (the largest sum of tensors alive at one step) and, with
 * fragmentation and alignment, usually a little more.
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
        List<TensorLife> order = new ArrayList<>(tensors);
        order.sort(Comparator.comparingLong(TensorLife::bytes).reversed().thenComparingInt(TensorLife::first));
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
            long offset = 0;
            for (Placement p : conflicts) {
                if (offset + t.bytes() <= p.offset()) {
                    break;
                }
                offset = Math.max(offset, alignUp(p.end(), alignment));
            }
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
