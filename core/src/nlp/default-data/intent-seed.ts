/**
 * Project-written seed data (Apache-2.0, part of Switchboard) for the default intent model:
 * generic customer-service intents in English and Chinese. Operators retrain on their own data.
 * Format: one `label|text` per line.
 */
export const INTENT_SEED = `
greeting|hello
greeting|hi there
greeting|good morning
greeting|hey, anyone there?
greeting|good afternoon, I have a question
greeting|hello, is this customer service?
greeting|你好
greeting|您好，在吗？
greeting|早上好
greeting|有人在吗
greeting|哈喽，请问是客服吗
greeting|你好，我想咨询一下
goodbye|bye
goodbye|goodbye, have a nice day
goodbye|that's all, see you
goodbye|ok bye now
goodbye|talk to you later
goodbye|再见
goodbye|拜拜
goodbye|好的，先这样吧，再见
goodbye|没有别的问题了，再见
goodbye|下次再聊
thanks|thanks
thanks|thank you so much
thanks|thanks for your help
thanks|great, thank you
thanks|appreciate it
thanks|谢谢
thanks|非常感谢
thanks|谢谢你的帮助
thanks|好的，多谢
thanks|太感谢了
order_status|where is my order?
order_status|my package hasn't arrived yet
order_status|can you check the status of order 12345?
order_status|when will my parcel be delivered?
order_status|tracking number shows no update
order_status|how long until my order ships?
order_status|my delivery is late
order_status|我的订单到哪了
order_status|快递怎么还没到
order_status|帮我查一下订单12345的物流
order_status|什么时候发货
order_status|包裹几天能到
order_status|物流信息一直没有更新
order_status|我的货到哪里了
refund_request|I want a refund
refund_request|how do I get my money back?
refund_request|please refund my payment
refund_request|I'd like to return this item for a refund
refund_request|when will I receive my refund?
refund_request|the refund has not arrived in my account
refund_request|我要退款
refund_request|怎么申请退款
refund_request|退款什么时候到账
refund_request|我想退货退款
refund_request|钱什么时候退给我
refund_request|退款还没收到
cancel_order|cancel my order
cancel_order|I want to cancel the order I just placed
cancel_order|please cancel order 55821
cancel_order|can I still cancel my purchase?
cancel_order|how do I cancel a subscription?
cancel_order|取消订单
cancel_order|我想把刚下的单取消
cancel_order|订单还能取消吗
cancel_order|帮我取消这个订单
cancel_order|怎么取消订阅
change_address|I need to change my delivery address
change_address|can I update the shipping address?
change_address|wrong address on my order
change_address|please send it to a different address
change_address|修改收货地址
change_address|地址填错了，能改吗
change_address|我想换一个收货地址
change_address|怎么修改配送地址
payment_problem|my payment failed
payment_problem|I was charged twice
payment_problem|card declined at checkout
payment_problem|why was my card charged two times?
payment_problem|the payment didn't go through
payment_problem|付款失败了
payment_problem|被重复扣款了
payment_problem|支付不成功怎么办
payment_problem|银行卡扣了两次钱
payment_problem|付不了款
account_login|I can't log in to my account
account_login|forgot my password
account_login|how do I reset my password?
account_login|my account is locked
account_login|verification code never arrives
account_login|登录不上
account_login|忘记密码了
account_login|怎么重置密码
account_login|账号被锁定了
account_login|收不到验证码
human_agent|I want to talk to a human
human_agent|let me speak to an agent
human_agent|transfer me to a real person
human_agent|can I talk to someone?
human_agent|customer service representative please
human_agent|转人工
human_agent|我要人工客服
human_agent|找个真人跟我说
human_agent|人工服务
human_agent|能不能让客服来处理
complaint|I want to file a complaint
complaint|this service is terrible
complaint|I am very unhappy with the product
complaint|your courier was rude to me
complaint|the item arrived broken
complaint|我要投诉
complaint|你们的服务太差了
complaint|收到的东西是坏的
complaint|快递员态度很差
complaint|质量太差了，我很不满意
product_inquiry|do you have this in size M?
product_inquiry|is this product in stock?
product_inquiry|what colours are available?
product_inquiry|how much does it cost?
product_inquiry|does it come with a warranty?
product_inquiry|这个有M码吗
product_inquiry|还有货吗
product_inquiry|有哪些颜色
product_inquiry|这个多少钱
product_inquiry|保修多久
invoice|I need an invoice
invoice|can you send me a receipt?
invoice|how do I get a VAT invoice?
invoice|please email the invoice for my order
invoice|我要开发票
invoice|怎么开具发票
invoice|能给我发一下收据吗
invoice|发票什么时候寄出
`;
