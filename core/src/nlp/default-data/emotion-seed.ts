/**
 * Project-written seed data (Apache-2.0, part of Switchboard) for the default emotion model.
 * Labels: positive, neutral, negative, anger, anxiety (anger and anxiety are negative).
 * Format: one `label|text` per line.
 */
export const EMOTION_SEED = `
positive|thank you, that was really helpful
positive|great service, I'm very happy
positive|awesome, it works now
positive|perfect, problem solved
positive|you guys are amazing
positive|love the product, thanks
positive|the delivery was fast, very satisfied
positive|excellent support, much appreciated
positive|wonderful, thanks a lot
positive|good job, I'm pleased
positive|谢谢，帮了大忙
positive|服务很好，非常满意
positive|太棒了，问题解决了
positive|好评，速度很快
positive|客服态度很好，点赞
positive|东西很好用，很喜欢
positive|非常感谢，你们真好
positive|很满意这次的购物
positive|真不错，下次还来
positive|开心，终于收到了
neutral|what are your opening hours?
neutral|I would like to check my order
neutral|can you tell me the price?
neutral|my order number is 12345
neutral|how do I change my address?
neutral|please send me the invoice
neutral|is this available in blue?
neutral|I have a question about my account
neutral|ok
neutral|when does the shop open tomorrow?
neutral|请问营业时间是几点
neutral|我想查一下订单
neutral|这个多少钱
neutral|我的订单号是12345
neutral|怎么修改地址
neutral|请把发票发给我
neutral|有蓝色的吗
neutral|我有个关于账户的问题
neutral|好的
neutral|明天几点开门
negative|this is disappointing
negative|the product is not good
negative|I'm not happy with the quality
negative|it still doesn't work
negative|the item arrived damaged
negative|that's not what I ordered
negative|the app keeps crashing, annoying
negative|sadly the size is wrong
negative|bad experience overall
negative|I regret buying this
negative|有点失望
negative|质量不太好
negative|还是不能用
negative|收到的东西坏了
negative|发错货了
negative|体验很差
negative|尺码不对，不太满意
negative|后悔买了
negative|用了两天就坏了
negative|东西跟描述不一样
anger|this is outrageous, I want my money back now
anger|worst service ever, absolutely furious
anger|you people are useless
anger|I am so angry, nobody answers
anger|what a scam, I'm reporting you
anger|this is ridiculous, third time I'm asking
anger|are you kidding me? fix it now!
anger|I'm fed up with your lies
anger|terrible! I'm furious
anger|stop wasting my time, damn it
anger|气死我了
anger|你们这是骗子吧
anger|太过分了，马上给我退钱
anger|什么破服务，垃圾
anger|问了三遍了还没人管，气死了
anger|你们是不是有病
anger|简直岂有此理
anger|我要投诉你们，太恶心了
anger|别再敷衍我了
anger|愤怒，太坑人了
anxiety|I'm really worried my package is lost
anxiety|please hurry, I need it urgently
anxiety|I'm anxious, my account was charged and nothing happened
anxiety|what if my data was stolen? I'm scared
anxiety|I'm nervous the refund will never come
anxiety|urgent: I need help as soon as possible
anxiety|I'm stressed, the gift is for tomorrow
anxiety|I'm afraid I was hacked
anxiety|it's an emergency, please respond
anxiety|I can't sleep worrying about this payment
anxiety|很着急，请尽快处理
anxiety|我担心包裹丢了
anxiety|急死了，明天就要用
anxiety|好担心钱退不回来
anxiety|账号是不是被盗了，好害怕
anxiety|怎么办，一直没有消息
anxiety|拜托快一点，真的很急
anxiety|焦虑死了，到底什么时候到
anxiety|我好慌，扣了钱订单却没了
anxiety|紧急情况，请马上回复
`;
