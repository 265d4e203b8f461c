#!/usr/bin/env bash
# The commands that build labelled benchmark data and score clusterings: `synth shopee` (from a
# small Shopee-format file written here), `eval-clusters`, and `synth grocery` (on the real
# grocery photos in ../shared/data, when present).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }

# --- synth shopee: label_group is the truth; pairs and clusters follow it, split by group.
cat > "$scratch/shopee.csv" <<'CSV'
posting_id,image,image_phash,title,label_group
p01,a.jpg,ff00,Nabati creamer premium 1 kg,g1
p02,b.jpg,ff01,NABATI Non Dairy Creamer 1kg premium,g1
p03,c.jpg,ff02,Creamer Nabati reguler 1 Kg,g1
p04,d.jpg,ff03,Chek Hup white coffee king 40gr x 15,g2
p05,e.jpg,ff04,Chek Hup 3in1 Ipoh white coffee king 15 sachet,g2
p06,f.jpg,ff05,Indomie goreng rendang 5 pcs,g3
p07,g.jpg,ff06,indomie mi goreng rendang isi 5,g3
p08,h.jpg,ff07,Indomie goreng original 5 pcs,g4
p09,i.jpg,ff08,INDOMIE Goreng Original 85g x 5,g4
p10,j.jpg,ff09,Sunsilk shampoo black shine 170 ml,g5
p11,k.jpg,ff10,Sunsilk black shine shampoo 170ml,g5
p12,l.jpg,ff11,Pepsodent toothpaste 190 g,g6
CSV
out=$("$doppel" -q synth shopee --data "$scratch/shopee.csv" --out "$scratch/shopee" --seed 1)
check "synth shopee reports its counts ($out)" contains "$out" "12 listings"
check "one listing per posting" test "$(($(wc -l < "$scratch/shopee/listings.csv") - 1))" -eq 12
check "pairs are labelled by label_group, each group in one split" py "
import csv, sys
group = {r['posting_id']: r['label_group'] for r in csv.DictReader(open('$scratch/shopee.csv'))}
pairs = list(csv.DictReader(open('$scratch/shopee/pairs.csv')))
assert pairs, 'no pairs'
assert all(int(p['label']) == (group[p['id_a']] == group[p['id_b']]) for p in pairs)
assert any(p['label'] == '1' for p in pairs) and any(p['label'] == '0' for p in pairs)
split_of = {}
for s in ('train', 'valid', 'test'):
    for r in csv.DictReader(open(f'$scratch/shopee/clusters_{s}.csv')):
        assert split_of.setdefault(group[r['id']], s) == s, r
assert sorted(r['id'] for r in csv.DictReader(open('$scratch/shopee/clusters.csv'))) == sorted(group)
"
"$doppel" -q synth shopee --data "$scratch/shopee.csv" --out "$scratch/shopee2" --seed 1 > /dev/null
check "synth shopee is reproducible for a seed" cmp -s "$scratch/shopee/pairs.csv" "$scratch/shopee2/pairs.csv"
printf 'posting_id,title\np01,no label group\n' > "$scratch/bad_shopee.csv"
expect_fail synth shopee --data "$scratch/bad_shopee.csv" --out "$scratch/bad"
check "a file without label_group is refused, naming it ($err)" contains "$err" "bad_shopee.csv"

# --- eval-clusters: the truth scores 1; one big cluster has full recall, poor precision.
truth=$scratch/shopee/clusters.csv
out=$("$doppel" -q eval-clusters "$truth" "$truth")
check "the truth against itself has pairwise F1 1" contains "$out" "| $truth | 1.0000 | 1.0000 | 1.0000 | 1.0000 |"
check "the every-item-alone baseline is reported" contains "$out" "| singletons | 0.0000 |"
{ echo "id,cluster_id"; tail -n +2 "$truth" | cut -d, -f1 | sed 's/$/,all/'; } > "$scratch/one_cluster.csv"
out=$("$doppel" -q eval-clusters "$truth" "$scratch/one_cluster.csv")
check "one cluster for everything: recall 1, precision < 0.5 ($out)" py "
row = [l for l in '''$out'''.splitlines() if 'one_cluster.csv' in l][0].split('|')
precision, recall = float(row[2]), float(row[3])
assert recall == 1.0 and precision < 0.5, (precision, recall)
"
head -5 "$truth" > "$scratch/partial.csv"
expect_fail eval-clusters "$truth" "$scratch/partial.csv"
check "a clustering that misses ids is refused, naming it ($err)" contains "$err" "partial.csv"

# --- synth grocery: real photos, seeded seller titles, same-class hard negatives.
grocery=${DOPPEL_DATA:-../shared/data}/grocerystore-packages
if [ -f "$grocery/train.txt" ]; then
  out=$("$doppel" -q synth grocery --data "$grocery" --out "$scratch/grocery")
  check "synth grocery reports its counts ($out)" contains "$out" "listings with photos"
  "$doppel" -q synth grocery --data "$grocery" --out "$scratch/grocery_again" > /dev/null
  "$doppel" -q synth grocery --data "$grocery" --out "$scratch/grocery_seed2" --seed 2 > /dev/null
  check "synth grocery is reproducible for a seed" \
    cmp -s "$scratch/grocery/listings.csv" "$scratch/grocery_again/listings.csv"
  check "another seed gives other titles" \
    bash -c "! cmp -s '$scratch/grocery/listings.csv' '$scratch/grocery_seed2/listings.csv'"
  check "every listing's photo exists; matches share a product, hard negatives a class" py "
import csv, os
listings = {r['id']: r for r in csv.DictReader(open('$scratch/grocery/listings.csv'))}
assert all(os.path.isfile(r['image']) for r in listings.values())
product = {r['id']: r['cluster_id'] for r in csv.DictReader(open('$scratch/grocery/clusters.csv'))}
pairs = list(csv.DictReader(open('$scratch/grocery/pairs.csv')))
assert all(int(p['label']) == (product[p['id_a']] == product[p['id_b']]) for p in pairs)
same_class = [p for p in pairs if p['label'] == '0'
              and product[p['id_a']].split('/')[0] == product[p['id_b']].split('/')[0]]
assert len(same_class) > 100, len(same_class)
assert {p['split'] for p in pairs} == {'train', 'valid', 'test'}
"
else
  echo "skip: synth grocery (no grocery photos at $grocery)"
fi
finish
