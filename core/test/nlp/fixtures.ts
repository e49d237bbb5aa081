/** Small project-written fixtures for the NLP tests. */
import { parseSeed } from '../../src/nlp/default-data/index.js';
import { INTENT_SEED } from '../../src/nlp/default-data/intent-seed.js';
import type { TrainExample } from '../../src/nlp/trainer.js';
import { Featuriser } from '../../src/nlp/featuriser.js';
import { predictProba, type BagModel, type EmbeddingBranch } from '../../src/nlp/model.js';
import type { OnnxClassifier } from '../../src/nlp/runtime.js';

/** An embedding branch with values from `random` (E, V, c, then the hidden bias when `hidden`), for merge tests. */
export function randomEmbeddingBranch(random: () => number, rows: number, classes: number, dim: number, hidden = false): EmbeddingBranch {
  return {
    dim,
    E: Float32Array.from({ length: rows * dim }, () => random() - 0.5),
    V: Float32Array.from({ length: dim * classes }, () => random() - 0.5),
    c: Float32Array.from({ length: classes }, () => random() - 0.5),
    ...(hidden ? { hb: Float32Array.from({ length: dim }, () => random() - 0.5) } : {}),
    temperature: 1,
  };
}

/** Largest difference between the TypeScript reference and the ONNX graph, one text at a time and batched. */
export async function maxParityDiff(model: BagModel, onnx: OnnxClassifier, texts: string[]): Promise<number> {
  const featuriser = new Featuriser(model.featuriser);
  const features = texts.map((t) => featuriser.featurise(t));
  const batched = await onnx.runBatch(features);
  let maxDiff = 0;
  for (let i = 0; i < texts.length; i++) {
    const reference = predictProba(model, features[i]);
    const single = await onnx.probabilities(texts[i]);
    for (let k = 0; k < reference.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(reference[k] - single[k]), Math.abs(reference[k] - batched[i][k]));
    }
  }
  return maxDiff;
}

export const intentExamples = (): TrainExample[] => parseSeed(INTENT_SEED);

export const GARBAGE: Record<string, string> = {
  empty: '',
  whitespace: '   \n\t  ',
  zeroWidth: '\u200b\u200c\u200d\ufeff\u2060',
  emojiOnly: '😀😂🙏🏽👍🔥💯',
  rtl: 'مرحبا، أين طلبي؟ \u202eשלום עולם',
  /** 100 KB of deterministic noise over Latin, CJK, Arabic and symbols. */
  hugeNoise: noise(100_000),
  control: '\u0000\u0001\u0002\u0007',
};

export const PROBES = [
  'where is my order 12345?',
  '我要退款',
  '轉人工客服',
  'ＷＨＥＲＥ ＩＳ ＭＹ ＯＲＤＥＲ',
  'hello',
  'thanks!',
  'the invoice please',
  '登錄不上',
];

function noise(length: number): string {
  const alphabet =
    'qwxzjkvbpy的了是不我一有大在人这中上为们地个用工时要动国产以我到他会作来分生对于学下级就年阶义发成部民可出能方进同行面说种过命度革而多子后自社加小机也经力线本电高量长党得实家定深法表着水理化争现所二起政三好十战无农使性前等反体合斗路图把结第里正新开论之物从当两些还天资事队批如应形想制心样干都向变关点育重其思与间内去因件日利相由压员气业代全组数果期导平各基或月毛然问比展那它最及外没看治提五解系林者米群头意只明四道马认次文通但条较克又公孔领军流入接席位情运器并飞原油放立题质指建区验活众很教决特此常石强极土少已根共直团统式转别造切九你取西持总料连任志观调七么山程百报更见必真保热委手改管处己将修支识病象几先老光专什六型具示复安带每东增则完风回南广劳轮科北打积车计给节做务被整联步类集号列温装即毫知轴研单色坚据速防史拉世设达尔场织历花受求传口断况采精金界品判参层止边清至万确究书术状厂须离再目海交权且儿青才证低越际八试规斯近注办布门铁需走议县兵固除般引齿千胜细影济白格效置推空配刀叶率述今选养德话查差半敌始片施响收华觉备名红续均药标记难存测士身紧液派准斤角降维板许破述技消底床田势端感往神便贺村构照容非搞亚磨族火段算适讲按值美态黄易彪服早班麦削信排台声该击素张密害侯草何树肥继右属市严径螺检左页抗苏显苦英快称坏移约巴材省黑武培著河帝仅针怎植京助升王眼她抓含苗副杂普谈围食射源例致酸旧却充足短划剂宣环落首尺波承粉践府鱼随考刻靠够满夫失包住促枝局菌杆周护岩师举曲春元超负砂封换太模贫减阳扬江析亩木言球朝医校古呢稻宋听唯输滑站另卫字鼓刚写刘微略范供阿块某功套友限项余倒卷创律雨让骨远帮初皮播优占死毒圈伟季训控激找叫云互跟裂粮粒母练塞钢顶策双留误础吸阻故寸盾晚丝女散焊功株亲院冷彻弹错散商视艺灭版烈零室轻血倍缺厘泵察绝富城冲喷壤简否柱李望盘磁雄似困巩益洲脱投送奴侧润盖挥距触星松送获兴独官混纪依未突架宽冬章湿偏纹吃执阀矿寨责熟稳夺硬价努翻奇甲预职评读背协损棉侵灰虽矛厚罗泥辟告卵箱掌氧恩爱停曾溶营终纲孟钱待尽俄缩沙退陈讨奋械载胞幼哪剥迫旋征槽倒握担仍呀鲜吧卡粗介钻逐弱脚怕盐末阴丰雾冠丙街莱贝辐肠付吉渗瑞惊顿挤秒悬姆烂森糖圣凹陶词迟蚕亿矩'.split(
      '',
    );
  const extra = ['ا', 'ب', 'ت', 'ש', 'ל', 'ם', '·', '—', '★', '😀', ' ', ' ', ' '];
  const all = [...alphabet, ...extra];
  let seed = 12345;
  let out = '';
  while (out.length < length) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out += all[seed % all.length];
  }
  return out.slice(0, length);
}
